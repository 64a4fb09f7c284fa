# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Depthwise 2-D convolution whose kernels live in a compressible subspace."""

import keras

from keras_subnets.lcs.lcs_conv import LcsDepthwiseConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsDepthwiseConv2D(LcsDepthwiseConvMixin, keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D` trained as an LCS point or line.

    Takes every argument of `keras.layers.DepthwiseConv2D`
    (``channels_last``) plus the LCS arguments documented in `LcsDense`.
    A ``structured`` depthwise layer keeps the channels its input keeps (the
    same width fraction of the same channel count, when ``structured_inputs``),
    with all of their ``depth_multiplier`` outputs; ``structured_outputs`` is
    ignored. Implemented once for every rank by `LcsDepthwiseConvMixin`.
    """
