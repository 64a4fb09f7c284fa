# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Whole-model instruction counts per level on real TFLM (``keras_subnets.profile``).

Builds the whole-model harness (`keras_subnets.firmware.runner`) around a
``.tflite`` file, runs every level under QEMU (Cortex-M4: ``mps2-an386``,
Cortex-M7: ``mps2-an500``; TFLM with CMSIS-NN) and reports the exact
instructions of each ``Invoke()``, the arena and flash, and optionally the
per-operator profile and a plain baseline file measured in the same run.
Works on plain ``.tflite`` files too (one row). Needs a TFLM tree with its
downloads (``tflm_root``, else ``$TFLM_ROOT``, else ``../shared/tflm/tflite-micro``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from keras_subnets.firmware import build, modelfile, runner


@dataclasses.dataclass
class LevelProfile:
    """One level (or the one run of a plain file)."""

    level: int | None  # None: a plain file
    instructions: int | None  # whole Invoke() of sample 0 (None on x86)
    sparsity: float | None = None
    macs: int | None = None
    ops: list[tuple[str, int | None]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ProfileResult:
    """`profile`'s result; ``levels`` sparsest first, ``baseline`` the plain file's run if any."""

    target: str
    levels: list[LevelProfile]
    arena_bytes: int | None
    flash_bytes: int | None
    model_bytes: int
    baseline: ProfileResult | None = None

    def reference(self) -> int | None:
        """What ratios divide by: the baseline's Invoke(), else this file's densest level."""
        ref = self.baseline.levels[-1].instructions if self.baseline else self.levels[-1].instructions
        return ref or None

    def ratio(self, row: LevelProfile) -> float | None:
        ref = self.reference()
        return None if ref is None or row.instructions is None else row.instructions / ref

    def summary(self) -> str | None:
        """``densest/baseline=R1 sparsest/baseline=R2`` (with a baseline)."""
        if self.baseline is None or self.reference() is None or self.levels[0].instructions is None:
            return None
        ref = self.reference()
        return (f"densest/baseline={self.levels[-1].instructions / ref:.3f} "
                f"sparsest/baseline={self.levels[0].instructions / ref:.3f}")

    def table(self, per_op: bool = False) -> str:
        """The per-level table (and the per-operator profiles) as text."""
        against = "baseline" if self.baseline else "densest"
        lines = [f"{'level':>5}  {'sparsity':>8}  {'MACs':>10}  {'instructions':>12}  {'/' + against:>9}"]
        rows = [*(("baseline", r) for r in (self.baseline.levels if self.baseline else [])),
                *((str(r.level) if r.level is not None else "plain", r) for r in self.levels)]
        for name, r in rows:
            ratio = self.ratio(r)
            lines.append(f"{name:>5}  {_fmt(r.sparsity, '{:.3f}'):>8}  {_fmt(r.macs, '{:,}'):>10}  "
                         f"{_fmt(r.instructions, '{:,}'):>12}  {_fmt(ratio, '{:.3f}'):>9}")
        lines.append(f"arena {self.arena_bytes:,} bytes, flash {_fmt(self.flash_bytes, '{:,}')} bytes "
                     f"(model {self.model_bytes:,}) on {self.target}")
        if self.baseline:
            lines.append(f"baseline: arena {self.baseline.arena_bytes:,} bytes, flash "
                         f"{_fmt(self.baseline.flash_bytes, '{:,}')} bytes (model {self.baseline.model_bytes:,})")
        if per_op:
            for name, r in rows:
                if r.ops:
                    lines.append(f"operators at {'level ' + name if name.isdigit() else name}:")
                    total = sum(c for _, c in r.ops if c) or 1
                    for op, count in r.ops:
                        share = "" if count is None else f"  {100 * count / total:5.1f} %"
                        lines.append(f"  {op:<24} {_fmt(count, '{:,}'):>12}{share}")
        return "\n".join(lines)


def _fmt(value, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def default_inputs(tflite: bytes, samples: int = 1, seed: int = 0) -> np.ndarray:
    """Uniform random inputs in [0, 1) shaped like the file's data input."""
    spec = runner.model_spec(tflite).input
    return np.random.default_rng(seed).random((samples, *spec.shape[1:])).astype(np.float32)


def _run(tflite: bytes, target: str, inputs, levels, per_op, tflm_root, progress) -> ProfileResult:
    res = runner.run(tflite, target, inputs, levels=levels, profile=per_op, tflm_root=tflm_root, progress=progress)
    table = modelfile.level_table(tflite)
    meta = {row["level"]: row for row in (table or {}).get("levels", [])} if runner.model_spec(tflite).num_levels \
        else {}
    rows = []
    for level in sorted(res.statuses):
        if any(res.statuses[level]):
            raise runner.FirmwareError(f"Invoke failed at level {level}: {'; '.join(res.messages[-4:])}", res.log)
        counts = res.invoke_instructions.get(level)
        row = meta.get(level, {})
        rows.append(LevelProfile(level if meta else None, counts[0] if counts else None, row.get("sparsity"),
                                 row.get("macs"), res.profile.get(level, [])))
    return ProfileResult(target, rows, res.arena_bytes, res.flash_bytes, res.model_bytes)


def profile(
    model: bytes | str | os.PathLike,
    target: str = "m4",
    *,
    baseline: bytes | str | os.PathLike | None = None,
    inputs: np.ndarray | None = None,
    levels: Sequence[int] | None = None,
    per_op: bool = False,
    tflm_root: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
) -> ProfileResult:
    """Measures every level of ``model`` on real TFLite Micro.

    Args:
        model: a ``.tflite`` file (path or bytes): a converted nested file
            or a plain one.
        target: ``"m4"`` or ``"m7"`` (QEMU, exact instruction counts) or
            ``"x86"`` (runs the firmware natively: arena only, no counts).
        baseline: a plain ``.tflite`` to run in the same way; ratios are then
            to its ``Invoke()``.
        inputs: samples for the data input (default one uniform random image);
            counts are of the first.
        levels: levels to run (default all).
        per_op: also profile each operator (TFLM's ``MicroProfilerInterface``).
        tflm_root: the TFLM tree (else ``$TFLM_ROOT``, else ``../shared/tflm/tflite-micro``).
        progress: called with one-line status messages.

    Returns:
        A `ProfileResult`; ``.table()`` formats it, ``.summary()`` gives the
        ratios to the baseline.

    Raises:
        TflmNotFoundError: no TFLM tree. ModelFileError: not a TFLite file, or
        operators the harness cannot build. FirmwareError: build or run failed.
    """
    blob = modelfile.read(model)
    build.get_target(target)
    if inputs is None:
        inputs = default_inputs(blob)
    result = _run(blob, target, inputs, levels, per_op, tflm_root, progress)
    if baseline is not None:
        base = modelfile.read(baseline)
        base_inputs = inputs if runner.model_spec(base).input.shape[1:] == runner.model_spec(blob).input.shape[1:] \
            else default_inputs(base)
        result.baseline = _run(base, target, base_inputs, None, per_op, tflm_root, progress)
    return result


def write_counts(model: str | os.PathLike, result: ProfileResult) -> bytes:
    """Stores ``instructions_<target>`` per level (and ``arena_<target>``, ``flash_<target>``) in the
    file's level table and rewrites the file; returns the new bytes."""
    if result.target == "x86":
        raise ValueError("--write needs instruction counts: profile on m4 or m7, not x86")
    blob = modelfile.read(model)
    table = modelfile.level_table(blob)
    if not table:
        raise ValueError(f"'{model}' has no keras_subnets.levels table to write into (a plain file)")
    by_level = {r.level: r for r in result.levels}
    for row in table["levels"]:
        if row["level"] in by_level and by_level[row["level"]].instructions is not None:
            row[f"instructions_{result.target}"] = int(by_level[row["level"]].instructions)
    table[f"arena_{result.target}"] = result.arena_bytes
    table[f"flash_{result.target}"] = result.flash_bytes
    new = modelfile.write_level_table(blob, table)
    Path(model).write_bytes(new)
    return new
