# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Depthwise 2-D convolution holding nested sub-networks."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_subnets.layers.subnet_layer import SubnetLayerMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetDepthwiseConv2D(SubnetLayerMixin, keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D` whose kernels hold several nested levels.

    Takes every argument of `keras.layers.DepthwiseConv2D`
    (``channels_last`` only) plus ``levels``, ``mask_kind``, ``level_widths``
    and ``keep_row_max`` as documented in `SubnetDense`.

    One row per output channel ``o = ci * depth_multiplier + m`` with the
    ``kh * kw`` taps as columns (``block`` pairs neighbouring taps of a
    kernel row). A ``structured`` depthwise layer's channels follow its
    input's: `nest` couples them to the upstream layer's width.
    """

    def __init__(
        self,
        kernel_size,
        *args,
        levels: Sequence[float] | None = None,
        mask_kind: str = "unstructured",
        level_widths: Sequence[int] | None = None,
        keep_row_max: bool = True,
        **kwargs,
    ):
        super().__init__(kernel_size, *args, **kwargs)
        self._init_subnet(levels, mask_kind, level_widths, keep_row_max)

    def build(self, input_shape):
        super().build(input_shape)
        out_shape = self.compute_output_shape(input_shape)
        self._positions_per_sample = int(out_shape[1]) * int(out_shape[2])
        self._build_subnet()

    @property
    def _units(self) -> int:
        return int(self.kernel.shape[2]) * self.depth_multiplier

    def _kernel_to_rows(self, kernel: np.ndarray) -> np.ndarray:
        kh, kw, cin, mult = kernel.shape
        return np.asarray(kernel).transpose(2, 3, 0, 1).reshape(cin * mult, kh * kw)

    def _rows_to_kernel(self, rows: np.ndarray) -> np.ndarray:
        kh, kw, cin, mult = self.kernel.shape
        return np.ascontiguousarray(np.asarray(rows).reshape(cin, mult, kh, kw).transpose(2, 3, 0, 1))

    def _input_levels_to_rows(self, input_levels: np.ndarray) -> np.ndarray:
        per_row = np.repeat(input_levels, self.depth_multiplier)
        return np.broadcast_to(per_row[:, None], self._rows_shape())

    def call(self, inputs):
        outputs = ops.depthwise_conv(
            inputs, self._masked_kernel(), strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation_rate, data_format=self.data_format,
        )
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self._masked_bias(), (1, 1, 1, self._units)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), **self._subnet_config()}
