# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Convolutions of any rank holding nested sub-networks.

`SubnetConvMixin` and `SubnetDepthwiseConvMixin` implement a convolution's
nested levels once for every rank; `SubnetConv1D` / `SubnetConv2D` and
`SubnetDepthwiseConv1D` / `SubnetDepthwiseConv2D` only pair them with the
Keras layer of their rank. TFLite runs a 1-D convolution as a 2-D one of
height 1, so the canonical rows of a 1-D layer are those of the 2-D layer
with ``kh = 1``.
"""

from __future__ import annotations

import numpy as np

from keras_subnets.layers.subnet_layer import SubnetLayerMixin
from keras_subnets.layers.weight_layer import ConvOperation, DepthwiseConvOperation


class _SubnetWindowMixin(SubnetLayerMixin):
    """What a convolution and a depthwise convolution of any rank share: positions and config."""

    def build(self, input_shape):
        super().build(input_shape)
        out_shape = self.compute_output_shape(input_shape)
        self._positions_per_sample = int(np.prod([int(d) for d in out_shape[1:-1]], dtype=np.int64))
        self._build_subnet()

    def get_config(self) -> dict:
        return {**super().get_config(), **self._subnet_config()}


class SubnetConvMixin(_SubnetWindowMixin, ConvOperation):
    """Nested levels of a convolution of any rank (``keras.layers.Conv1D``, ``Conv2D``, ...).

    The canonical weight matrix has one row per filter, columns in TFLite's
    OHWI order: ``rows[o, (ky * kw + kx) * cin + ci] = kernel[ky, kx, ci, o]``
    (``block`` pairs are therefore neighbouring input channels).
    """

    def _kernel_to_rows(self, kernel: np.ndarray) -> np.ndarray:
        return np.asarray(kernel).reshape(-1, self.filters).T

    def _rows_to_kernel(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(rows).T).reshape(tuple(self.kernel.shape))

    def _input_levels_to_rows(self, input_levels: np.ndarray) -> np.ndarray:
        taps = int(np.prod(self.kernel.shape[:-2]))
        return np.broadcast_to(np.tile(input_levels, taps)[None, :], self._rows_shape())


class SubnetDepthwiseConvMixin(_SubnetWindowMixin, DepthwiseConvOperation):
    """Nested levels of a depthwise convolution of any rank.

    One row per output channel ``o = ci * depth_multiplier + m`` with the
    window's taps as columns (``block`` pairs neighbouring taps of a kernel
    row). A ``structured`` depthwise layer's channels follow its input's:
    `nest` couples them to the upstream layer's width.
    """

    def _kernel_to_rows(self, kernel: np.ndarray) -> np.ndarray:
        kernel = np.asarray(kernel)
        *window, cin, mult = kernel.shape
        # (window..., cin, mult) -> (cin, mult, window...): a row per output channel, its taps in order.
        axes = (len(window), len(window) + 1, *range(len(window)))
        return kernel.transpose(axes).reshape(cin * mult, int(np.prod(window)))

    def _rows_to_kernel(self, rows: np.ndarray) -> np.ndarray:
        *window, cin, mult = self.kernel.shape
        rank = len(window)
        blocks = np.asarray(rows).reshape(cin, mult, *window)
        return np.ascontiguousarray(blocks.transpose(*range(2, rank + 2), 0, 1))

    def _input_levels_to_rows(self, input_levels: np.ndarray) -> np.ndarray:
        per_row = np.repeat(input_levels, self.depth_multiplier)
        return np.broadcast_to(per_row[:, None], self._rows_shape())
