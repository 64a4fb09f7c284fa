# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Convolutions of any rank whose weights live in a compressible subspace.

`LcsConvMixin` and `LcsDepthwiseConvMixin` implement a convolution's LCS
point or line once for every rank; `LcsConv1D` / `LcsConv2D` and
`LcsDepthwiseConv1D` / `LcsDepthwiseConv2D` only pair them with the Keras
layer of their rank.
"""

from __future__ import annotations

from keras import ops

from keras_subnets.lcs.lcs_layer import LcsLayerMixin


class _LcsWindowMixin(LcsLayerMixin):
    """What a convolution and a depthwise convolution of any rank share: bias and activation."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_lcs()

    def _finish(self, outputs, bias):
        if bias is not None:
            outputs = ops.add(outputs, ops.reshape(bias, (1,) * (self.rank + 1) + (self._units,)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def _channels_axis(self, mask):
        """``mask`` (one entry per channel) shaped to multiply the kernel along its input-channel axis."""
        return ops.reshape(mask, (1,) * self.rank + (-1, 1))

    def get_config(self) -> dict:
        return {**super().get_config(), **self._lcs_config()}


class LcsConvMixin(_LcsWindowMixin):
    """An LCS convolution of any rank (``keras.layers.Conv1D``, ``Conv2D``, ...).

    ``structured`` keeps a prefix of filters (``structured_outputs``) and of
    input channels (``structured_inputs``); ``input_tile`` does not apply.
    """

    def _init_lcs(self, *args) -> None:
        super()._init_lcs(*args)
        if self.groups != 1:
            raise ValueError(f"layer '{self.name}': grouped convolution (groups={self.groups}) is not supported")

    @property
    def _units(self) -> int:
        return self.filters

    def _structured_masks(self, fraction):
        inputs = int(self.kernel.shape[-2])
        out_mask = self._prefix(fraction, self.filters) if self.structured_outputs else ops.ones((self.filters,))
        in_mask = self._prefix(fraction, inputs) if self.structured_inputs else ops.ones((inputs,))
        return self._channels_axis(in_mask) * out_mask, out_mask

    def call(self, inputs, training=None):
        self._regularize(training)
        kernel, bias = self.effective_weights()
        padding = self.padding
        if padding == "causal":  # Conv1D only; Keras's Conv1D pads the same way before a valid convolution.
            inputs = ops.pad(inputs, self._compute_causal_padding())
            padding = "valid"
        outputs = ops.conv(inputs, kernel, strides=list(self.strides), padding=padding,
                           dilation_rate=self.dilation_rate, data_format=self.data_format)
        return self._finish(outputs, bias)


class LcsDepthwiseConvMixin(_LcsWindowMixin):
    """An LCS depthwise convolution of any rank.

    A ``structured`` depthwise layer keeps the channels its input keeps (the
    same width fraction of the same channel count, when ``structured_inputs``),
    with all of their ``depth_multiplier`` outputs; ``structured_outputs`` is
    ignored.
    """

    @property
    def _units(self) -> int:
        return int(self.kernel.shape[-2]) * self.depth_multiplier

    def _structured_masks(self, fraction):
        channels = int(self.kernel.shape[-2])
        # Channels follow the input: past the upstream prefix they are not
        # zero after a normalisation layer (it adds beta), so they are cut here.
        mask = self._prefix(fraction, channels) if self.structured_inputs else ops.ones((channels,))
        return self._channels_axis(mask), ops.repeat(mask, self.depth_multiplier)

    def call(self, inputs, training=None):
        self._regularize(training)
        kernel, bias = self.effective_weights()
        outputs = ops.depthwise_conv(
            inputs, kernel, strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation_rate, data_format=self.data_format,
        )
        return self._finish(outputs, bias)
