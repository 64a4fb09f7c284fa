# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""2-D convolution holding nested sub-networks."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_subnets.layers.subnet_layer import SubnetLayerMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetConv2D(SubnetLayerMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose filters hold several nested levels.

    Takes every argument of `keras.layers.Conv2D` (``channels_last`` only)
    plus ``levels``, ``mask_kind``, ``level_widths`` and ``keep_row_max`` as
    documented in `SubnetDense`; ``structured`` keeps a prefix of filters.

    The canonical weight matrix has one row per filter, columns in TFLite's
    OHWI order: ``rows[o, (ky * kw + kx) * cin + ci] = kernel[ky, kx, ci, o]``.
    ``block`` pairs are therefore neighbouring input channels.
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
        self._positions_per_sample = int(out_shape[1]) * int(out_shape[2])
        self._build_subnet()

    @property
    def _units(self) -> int:
        return self.filters

    def _kernel_to_rows(self, kernel: np.ndarray) -> np.ndarray:
        return np.asarray(kernel).reshape(-1, self.filters).T

    def _rows_to_kernel(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(rows).T).reshape(tuple(self.kernel.shape))

    def _input_levels_to_rows(self, input_levels: np.ndarray) -> np.ndarray:
        kh, kw, cin, _ = self.kernel.shape
        per_column = np.tile(input_levels, kh * kw)
        return np.broadcast_to(per_column[None, :], self._rows_shape())

    def call(self, inputs):
        outputs = self.convolution_op(inputs, self._masked_kernel())
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self._masked_bias(), (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), **self._subnet_config()}
