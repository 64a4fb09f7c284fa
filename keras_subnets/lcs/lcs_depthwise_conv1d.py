# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Depthwise 1-D convolution whose kernels live in a compressible subspace."""

from __future__ import annotations

import keras
from keras import ops

from keras_subnets.lcs.lcs_layer import LcsLayerMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsDepthwiseConv1D(LcsLayerMixin, keras.layers.DepthwiseConv1D):
    """`keras.layers.DepthwiseConv1D` trained as an LCS point or line.

    Takes every argument of `keras.layers.DepthwiseConv1D`
    (``channels_last``) plus the LCS arguments documented in `LcsDense`.
    ``structured`` follows its input's channels as `LcsDepthwiseConv2D`
    does; ``structured_outputs`` is ignored.
    """

    def __init__(
        self,
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
        super().__init__(kernel_size, *args, **kwargs)
        self._init_lcs(compression, variant, min_bits, max_bits, regularization,
                       structured_inputs, structured_outputs, input_tile)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_lcs()

    @property
    def _units(self) -> int:
        return int(self.kernel.shape[1]) * self.depth_multiplier

    def _structured_masks(self, fraction):
        channels = int(self.kernel.shape[1])
        mask = self._prefix(fraction, channels) if self.structured_inputs else ops.ones((channels,))
        return mask[None, :, None], ops.repeat(mask, self.depth_multiplier)

    def call(self, inputs, training=None):
        self._regularize(training)
        kernel, bias = self.effective_weights()
        outputs = ops.depthwise_conv(
            inputs, kernel, strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation_rate, data_format=self.data_format,
        )
        if bias is not None:
            outputs = ops.add(outputs, ops.reshape(bias, (1, 1, self._units)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), **self._lcs_config()}
