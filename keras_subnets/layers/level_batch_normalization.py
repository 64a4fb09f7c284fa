# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Batch normalization with one row of statistics and affine terms per level."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


class LevelBatchNormalization(keras.layers.BatchNormalization):
    """The per-row BatchNorm that the nested and the LCS BatchNorm specialise.

    Holds ``gamma``, ``beta``, ``moving_mean`` and ``moving_variance`` as
    ``(rows, channels)`` tables; a training pass updates the row of the
    current level only, inference reads that row. A subclass says how many
    rows there are (``num_levels``) and which row is current
    (``_current_level``): a nested level (`SubnetBatchNormalization`) or the
    band of α (`keras_subnets.lcs.LcsBatchNormalization`).

    Not registered for saving: only its subclasses are saved.

    Args:
        shared_affine: share one ``gamma``/``beta`` across rows instead of
            one per row.
        **kwargs: the arguments of `keras.layers.BatchNormalization`
            (``renorm`` and ``synchronized`` are refused: synchronized
            per-row statistics are not implemented, and under
            MirroredStrategy the multi-level step diverged with them).
    """

    def __init__(self, *args, shared_affine: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if self.renorm:
            raise ValueError(f"layer '{self.name}': renorm=True is not supported by {type(self).__name__}")
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
        """Rows of the tables."""
        raise NotImplementedError

    def _current_level(self):
        """The row used by this pass: an int32 scalar, possibly a tensor drawn in the graph."""
        raise NotImplementedError

    def build(self, input_shape):
        # The variables' order is the saved files' order: keep it.
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
        # Read by `SubnetBatchNormalization` only; every subclass has it so
        # that their saved files hold the same variables.
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
        """Copies one plain BatchNormalization's variables into every row."""
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
        return {**super().get_config(), "shared_affine": self.shared_affine}
