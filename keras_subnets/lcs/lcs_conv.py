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

from keras_subnets.layers.weight_layer import ConvOperation, DepthwiseConvOperation
from keras_subnets.lcs.lcs_layer import LcsLayerMixin


class _LcsWindowMixin(LcsLayerMixin):
    """What a convolution and a depthwise convolution of any rank share: the channel axis and config."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_lcs()

    def _channels_axis(self, mask):
        """``mask`` (one entry per channel) shaped to multiply the kernel along its input-channel axis."""
        return ops.reshape(mask, (1,) * self.rank + (-1, 1))

    def get_config(self) -> dict:
        return {**super().get_config(), **self._lcs_config()}


class LcsConvMixin(_LcsWindowMixin, ConvOperation):
    """An LCS convolution of any rank (``keras.layers.Conv1D``, ``Conv2D``, ...).

    ``structured`` keeps a prefix of filters (``structured_outputs``) and of
    input channels (``structured_inputs``); ``input_tile`` does not apply.
    """

    def _structured_masks(self, fraction):
        inputs = int(self.kernel.shape[-2])
        out_mask = self._prefix(fraction, self.filters) if self.structured_outputs else ops.ones((self.filters,))
        in_mask = self._prefix(fraction, inputs) if self.structured_inputs else ops.ones((inputs,))
        return self._channels_axis(in_mask) * out_mask, out_mask


class LcsDepthwiseConvMixin(_LcsWindowMixin, DepthwiseConvOperation):
    """An LCS depthwise convolution of any rank.

    A ``structured`` depthwise layer keeps the channels its input keeps (the
    same width fraction of the same channel count, when ``structured_inputs``),
    with all of their ``depth_multiplier`` outputs; ``structured_outputs`` is
    ignored.
    """

    def _structured_masks(self, fraction):
        channels = int(self.kernel.shape[-2])
        # Channels follow the input: past the upstream prefix they are not
        # zero after a normalisation layer (it adds beta), so they are cut here.
        mask = self._prefix(fraction, channels) if self.structured_inputs else ops.ones((channels,))
        return self._channels_axis(mask), ops.repeat(mask, self.depth_multiplier)
