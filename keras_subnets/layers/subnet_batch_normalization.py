# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Batch normalization with one set of statistics and affine terms per level."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_subnets import levels as levels_lib


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` with per-level statistics.

    Sub-networks see different activation statistics, so one shared set of
    moving mean/variance is wrong for all but one level (REDS's known
    weakness). This layer keeps ``gamma``, ``beta``, ``moving_mean`` and
    ``moving_variance`` as ``(L, channels)`` tables; training at level ``k``
    updates row ``k`` only and inference at level ``k`` reads row ``k``.

    Takes the arguments of `keras.layers.BatchNormalization` (``renorm`` and
    ``synchronized`` are refused: synchronized per-level statistics are not
    implemented, and under MirroredStrategy the multi-level step diverged
    with them) plus:

    Args:
        levels: the model's per-level sparsities, sparsest first; only their
            count matters here.
        shared_affine: share one ``gamma``/``beta`` across levels instead of
            one per level.
    """

    def __init__(
        self,
        *args,
        levels: Sequence[float] | None = None,
        shared_affine: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.levels = levels_lib.validate_sparsities(
            [0.0] if levels is None else levels, where=f"layer '{self.name}' levels"
        )
        if self.renorm:
            raise ValueError(f"layer '{self.name}': renorm=True is not supported by SubnetBatchNormalization")
        if self.synchronized:
            raise ValueError(
                f"layer '{self.name}': synchronized=True is refused: per-level batch statistics synchronized "
                "across replicas are not implemented, and under MirroredStrategy the multi-level training step "
                "diverged with them. Use synchronized=False (per-replica statistics; MirroredStrategy training "
                "is tested equal to one device)."
            )
        self.shared_affine = bool(shared_affine)

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def build(self, input_shape):
        channels = int(input_shape[self.axis])
        table = (self.num_levels, channels)
        affine = (channels,) if self.shared_affine else table
        if self.scale:
            self.gamma = self.add_weight(
                shape=affine, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                trainable=True, autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=affine, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                trainable=True, autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=table, name="moving_mean", initializer=self.moving_mean_initializer,
            trainable=False, autocast=False,
        )
        self.moving_variance = self.add_weight(
            shape=table, name="moving_variance",
            initializer=self.moving_variance_initializer, trainable=False, autocast=False,
        )
        self.active_level = self.add_weight(
            name="active_level", shape=(),
            initializer=keras.initializers.Constant(self.num_levels - 1),
            dtype="int32", trainable=False,
        )
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={self.axis: channels}
        )
        reduction_axes = list(range(len(input_shape)))
        del reduction_axes[self.axis]
        self._reduction_axes = reduction_axes
        self.built = True

    def _current_level(self):
        forced = levels_lib.current_override()
        return self.active_level if forced is None else forced

    def _row(self, table, level):
        return ops.take(table, level, axis=0)

    def call(self, inputs, training=None, mask=None):
        level = self._current_level()
        shape = [1] * len(inputs.shape)
        shape[self.axis] = inputs.shape[self.axis]
        compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
        x = ops.cast(inputs, compute_dtype)
        if training and self.trainable:
            mean, variance = ops.moments(x, axes=self._reduction_axes)
            # Only row `level` moves; a one-hot row mask keeps this valid when
            # the level is a tensor drawn inside the graph.
            rate = (1.0 - self.momentum) * ops.expand_dims(
                ops.one_hot(level, self.num_levels, dtype=self.moving_mean.dtype), 1
            )
            self.moving_mean.assign(
                self.moving_mean + rate * (ops.cast(mean, self.moving_mean.dtype)[None] - self.moving_mean)
            )
            self.moving_variance.assign(
                self.moving_variance
                + rate * (ops.cast(variance, self.moving_variance.dtype)[None] - self.moving_variance)
            )
        else:
            mean = self._row(self.moving_mean, level)
            variance = self._row(self.moving_variance, level)
        inv = ops.rsqrt(variance + self.epsilon)
        if self.scale:
            gamma = self.gamma if self.shared_affine else self._row(self.gamma, level)
            inv = inv * gamma
        out = (x - ops.reshape(mean, shape)) * ops.reshape(inv, shape)
        if self.center:
            beta = self.beta if self.shared_affine else self._row(self.beta, level)
            out = out + ops.reshape(beta, shape)
        return ops.cast(out, inputs.dtype)

    def load_dense(self, gamma, beta, moving_mean, moving_variance) -> None:
        """Copies one plain BatchNormalization's variables into every level."""
        for var, value in (
            (self.gamma if self.scale else None, gamma),
            (self.beta if self.center else None, beta),
            (self.moving_mean, moving_mean),
            (self.moving_variance, moving_variance),
        ):
            if var is None or value is None:
                continue
            var.assign(np.broadcast_to(np.asarray(value), tuple(var.shape)))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"levels": list(self.levels), "shared_affine": self.shared_affine})
        return config
