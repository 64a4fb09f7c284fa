# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""2-D convolution whose filters live in a compressible subspace."""

from __future__ import annotations

import keras
from keras import ops

from keras_subnets.lcs.lcs_layer import LcsLayerMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsConv2D(LcsLayerMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` trained as an LCS point or line.

    Takes every argument of `keras.layers.Conv2D` (``channels_last``,
    ``groups=1``) plus the LCS arguments documented in `LcsDense`
    (``input_tile`` does not apply). ``structured`` keeps a prefix of filters.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        *args,
        compression: str = "unstructured",
        variant: str = "point",
        min_bits: int = 3,
        max_bits: int = 8,
        regularization: float = 1.0,
        structured_inputs: bool = False,
        structured_outputs: bool = True,
        input_tile: int = 1,
        **kwargs,
    ):
        super().__init__(filters, kernel_size, *args, **kwargs)
        self._init_lcs(compression, variant, min_bits, max_bits, regularization,
                       structured_inputs, structured_outputs, input_tile)
        if self.groups != 1:
            raise ValueError(f"layer '{self.name}': grouped convolution (groups={self.groups}) is not supported")

    def build(self, input_shape):
        super().build(input_shape)
        self._build_lcs()

    @property
    def _units(self) -> int:
        return self.filters

    def _structured_masks(self, fraction):
        inputs = int(self.kernel.shape[2])
        out_mask = self._prefix(fraction, self.filters) if self.structured_outputs else ops.ones((self.filters,))
        in_mask = self._prefix(fraction, inputs) if self.structured_inputs else ops.ones((inputs,))
        return in_mask[None, None, :, None] * out_mask[None, None, None, :], out_mask

    def call(self, inputs, training=None):
        self._regularize(training)
        kernel, bias = self.effective_weights()
        outputs = self.convolution_op(inputs, kernel)
        if bias is not None:
            outputs = ops.add(outputs, ops.reshape(bias, (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), **self._lcs_config()}
