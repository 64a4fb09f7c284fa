# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Fully-connected layer holding nested sub-networks."""

from __future__ import annotations

import keras
import numpy as np

from keras_subnets.layers.subnet_layer import SubnetLayerMixin
from keras_subnets.layers.weight_layer import DenseOperation


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetDense(SubnetLayerMixin, DenseOperation, keras.layers.Dense):
    """`keras.layers.Dense` whose weights hold several nested levels.

    Takes every argument of `keras.layers.Dense` plus:

    Args:
        levels: per-level sparsity (fraction of kernel weights removed),
            sparsest first; ``0.0`` is dense. Defaults to one dense level.
        mask_kind: ``"unstructured"`` (magnitude top-k over the layer),
            ``"row"`` (same count per output neuron, DRESS), ``"block"``
            (1x2 blocks along the input) or ``"structured"`` (a prefix of
            neurons per level).
        level_widths: ``structured`` only: neurons kept by each level.
        keep_row_max: keep each neuron's largest weight in every level.

    The canonical weight matrix has one row per output neuron:
    ``rows[o, i] = kernel[i, o]``.
    """

    def build(self, input_shape):
        super().build(input_shape)
        self._positions_per_sample = int(np.prod([d for d in input_shape[1:-1]], dtype=np.int64))
        self._build_subnet()

    def _kernel_to_rows(self, kernel: np.ndarray) -> np.ndarray:
        return np.asarray(kernel).T

    def _rows_to_kernel(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(rows).T)

    def _input_levels_to_rows(self, input_levels: np.ndarray) -> np.ndarray:
        return np.broadcast_to(input_levels[None, :], self._rows_shape())

    def get_config(self) -> dict:
        return {**super().get_config(), **self._subnet_config()}
