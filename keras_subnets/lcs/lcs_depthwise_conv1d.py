# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Depthwise 1-D convolution whose kernels live in a compressible subspace."""

import keras

from keras_subnets.lcs.lcs_conv import LcsDepthwiseConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsDepthwiseConv1D(LcsDepthwiseConvMixin, keras.layers.DepthwiseConv1D):
    """`keras.layers.DepthwiseConv1D` trained as an LCS point or line.

    Takes every argument of `keras.layers.DepthwiseConv1D`
    (``channels_last``) plus the LCS arguments documented in `LcsDense`.
    ``structured`` follows its input's channels as `LcsDepthwiseConv2D`
    does; ``structured_outputs`` is ignored. Implemented once for every rank
    by `LcsDepthwiseConvMixin`.
    """
