# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""1-D convolution whose filters live in a compressible subspace."""

import keras

from keras_subnets.lcs.lcs_conv import LcsConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsConv1D(LcsConvMixin, keras.layers.Conv1D):
    """`keras.layers.Conv1D` trained as an LCS point or line.

    Takes every argument of `keras.layers.Conv1D` (``channels_last``,
    ``groups=1``, ``causal`` padding included) plus the LCS arguments
    documented in `LcsDense` (``input_tile`` does not apply).
    ``structured`` keeps a prefix of filters, as `LcsConv2D`. Implemented
    once for every rank by `LcsConvMixin`.
    """
