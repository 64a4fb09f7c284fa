# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Sparsity schedules with the semantics of tfmot's pruning schedules.

Each schedule is called with a training step and returns
``(should_update_masks, sparsity)``, exactly like
``tfmot.sparsity.keras.PolynomialDecay`` and ``ConstantSparsity``, so tfmot
schedule objects can be passed to `MaskScheduler` as well (tfmot itself is
never imported here).
"""

from __future__ import annotations


def _should_update(step: int, begin_step: int, end_step: int, frequency: int) -> bool:
    in_range = step >= begin_step and (end_step == -1 or step <= end_step)
    return in_range and (step - begin_step) % frequency == 0


class PolynomialDecay:
    """Sparsity grows from ``initial_sparsity`` to ``final_sparsity`` polynomially.

    ``sparsity(step) = final + (initial - final) * (1 - p) ** power`` with
    ``p = clip((step - begin_step) / (end_step - begin_step), 0, 1)``; masks
    are recomputed every ``frequency`` steps from ``begin_step`` to
    ``end_step`` and frozen afterwards.
    """

    def __init__(
        self,
        initial_sparsity: float,
        final_sparsity: float,
        begin_step: int,
        end_step: int,
        power: float = 3,
        frequency: int = 100,
    ):
        for name, value in (("initial_sparsity", initial_sparsity),
                            ("final_sparsity", final_sparsity)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must lie in [0, 1), got {value}")
        if begin_step < 0 or end_step <= begin_step or frequency <= 0:
            raise ValueError(
                f"need 0 <= begin_step < end_step and frequency > 0, got begin_step="
                f"{begin_step}, end_step={end_step}, frequency={frequency}"
            )
        self.initial_sparsity = float(initial_sparsity)
        self.final_sparsity = float(final_sparsity)
        self.begin_step = int(begin_step)
        self.end_step = int(end_step)
        self.power = float(power)
        self.frequency = int(frequency)

    def __call__(self, step: int) -> tuple[bool, float]:
        step = int(step)
        p = min(1.0, max(0.0, (step - self.begin_step) / (self.end_step - self.begin_step)))
        sparsity = self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * (1 - p) ** self.power
        return _should_update(step, self.begin_step, self.end_step, self.frequency), sparsity

    def get_config(self) -> dict:
        return {
            "initial_sparsity": self.initial_sparsity, "final_sparsity": self.final_sparsity,
            "begin_step": self.begin_step, "end_step": self.end_step,
            "power": self.power, "frequency": self.frequency,
        }


class ConstantSparsity:
    """Constant target sparsity, masks refreshed every ``frequency`` steps."""

    def __init__(self, target_sparsity: float, begin_step: int, end_step: int = -1, frequency: int = 100):
        if not 0.0 <= target_sparsity < 1.0:
            raise ValueError("target_sparsity must lie in [0, 1)")
        if begin_step < 0 or frequency <= 0 or (end_step != -1 and end_step < begin_step):
            raise ValueError("need begin_step >= 0, frequency > 0, end_step >= begin_step or -1")
        self.target_sparsity = float(target_sparsity)
        self.final_sparsity = self.target_sparsity
        self.begin_step = int(begin_step)
        self.end_step = int(end_step)
        self.frequency = int(frequency)

    def __call__(self, step: int) -> tuple[bool, float]:
        return _should_update(int(step), self.begin_step, self.end_step, self.frequency), self.target_sparsity

    def get_config(self) -> dict:
        return {"target_sparsity": self.target_sparsity, "begin_step": self.begin_step,
                "end_step": self.end_step, "frequency": self.frequency}


def schedule_value(schedule, step: int) -> tuple[bool, float, float]:
    """Calls a schedule (ours or tfmot's) and returns plain Python values.

    Returns:
        ``(should_update, sparsity, final_sparsity)``.
    """
    should, sparsity = schedule(step)
    final = getattr(schedule, "final_sparsity", None)
    if final is None:
        final = getattr(schedule, "target_sparsity", None)
    if final is None:
        raise ValueError(
            f"schedule {schedule!r} exposes neither final_sparsity nor target_sparsity"
        )

    def plain(value):
        return value.numpy() if hasattr(value, "numpy") else value

    return bool(plain(should)), float(plain(sparsity)), float(plain(final))
