# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""1-D convolution holding nested sub-networks."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_subnets.layers.subnet_layer import SubnetLayerMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetConv1D(SubnetLayerMixin, keras.layers.Conv1D):
    """`keras.layers.Conv1D` whose filters hold several nested levels.

    Takes every argument of `keras.layers.Conv1D` (``channels_last``,
    ``groups=1``; ``causal`` padding included) plus ``levels``,
    ``mask_kind``, ``level_widths`` and ``keep_row_max`` as documented in
    `SubnetDense`; ``structured`` keeps a prefix of filters.

    TFLite runs it as a 2-D convolution of height 1, so the canonical weight
    matrix is `SubnetConv2D`'s with ``kh = 1``: one row per filter,
    ``rows[o, kx * cin + ci] = kernel[kx, ci, o]``.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        *args,
        levels: Sequence[float] | None = None,
        mask_kind: str = "unstructured",
        level_widths: Sequence[int] | None = None,
        keep_row_max: bool = True,
        **kwargs,
    ):
        super().__init__(filters, kernel_size, *args, **kwargs)
        self._init_subnet(levels, mask_kind, level_widths, keep_row_max)
        if self.groups != 1:
            raise ValueError(f"layer '{self.name}': grouped convolution is not supported")

    def build(self, input_shape):
        super().build(input_shape)
        out_shape = self.compute_output_shape(input_shape)
        self._positions_per_sample = int(out_shape[1])
        self._build_subnet()

    @property
    def _units(self) -> int:
        return self.filters

    def _kernel_to_rows(self, kernel: np.ndarray) -> np.ndarray:
        return np.asarray(kernel).reshape(-1, self.filters).T

    def _rows_to_kernel(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(rows).T).reshape(tuple(self.kernel.shape))

    def _input_levels_to_rows(self, input_levels: np.ndarray) -> np.ndarray:
        kw = int(self.kernel.shape[0])
        return np.broadcast_to(np.tile(input_levels, kw)[None, :], self._rows_shape())

    def call(self, inputs):
        padding = self.padding
        if padding == "causal":
            inputs = ops.pad(inputs, self._compute_causal_padding())
            padding = "valid"
        outputs = ops.conv(inputs, self._masked_kernel(), strides=list(self.strides), padding=padding,
                           dilation_rate=self.dilation_rate, data_format=self.data_format)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self._masked_bias(), (1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), **self._subnet_config()}
