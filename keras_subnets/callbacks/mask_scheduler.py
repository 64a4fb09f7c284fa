# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Callback that grows nested masks during training."""

from __future__ import annotations

import keras

from keras_subnets.layers import SubnetLayerMixin
from keras_subnets.model_layers import model_layers
from keras_subnets.schedules import schedule_value


class MaskScheduler(keras.callbacks.Callback):
    """Recomputes every layer's nested masks from weight magnitudes on a schedule.

    The schedule (``PolynomialDecay``/``ConstantSparsity`` from
    `keras_subnets.schedules`, or tfmot's) describes the sparsest level: at
    step ``t`` every level ``k`` of every layer is pruned to
    ``levels[k] * sparsity(t) / final_sparsity``, so all levels grow together
    and stay nested. Masks change only when the schedule says so and are
    frozen after its end step. The step counter is the model's
    ``schedule_step`` variable, saved with the model, so a resumed ``fit``
    continues where it stopped.

    Args:
        schedule: a sparsity schedule.
        verbose: print a line whenever masks are recomputed.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"MaskScheduler needs a sparsity schedule such as "
                f"keras_subnets.schedules.ConstantSparsity({schedule!r}, begin_step=0) "
                f"or PolynomialDecay(...), got {type(schedule).__name__} {schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._step = 0

    def _layers(self):
        return model_layers(self.model, SubnetLayerMixin)

    def on_train_begin(self, logs=None):
        if not hasattr(self.model, "schedule_step"):
            raise ValueError(
                f"MaskScheduler needs a keras_subnets.SubnetModel, got model '{self.model.name}'"
            )
        self._step = int(keras.ops.convert_to_numpy(self.model.schedule_step))

    def apply(self, step: int) -> float:
        """Recomputes masks for ``step``; returns the scheduled fraction of the targets."""
        _, sparsity, final = schedule_value(self.schedule, step)
        fraction = sparsity / final if final > 0 else 1.0
        for layer in self._layers():
            layer.update_masks([s * fraction for s in layer.levels])
        return fraction

    def on_train_batch_begin(self, batch, logs=None):
        should, _, _ = schedule_value(self.schedule, self._step)
        if should:
            fraction = self.apply(self._step)
            if self.verbose:
                print(f"\nstep {self._step}: masks at {fraction:.1%} of the target sparsities")

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        self.model.schedule_step.assign(self._step)
