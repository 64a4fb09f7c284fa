# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""2-D convolution whose filters live in a compressible subspace."""

import keras

from keras_subnets.lcs.lcs_conv import LcsConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsConv2D(LcsConvMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` trained as an LCS point or line.

    Takes every argument of `keras.layers.Conv2D` (``channels_last``,
    ``groups=1``) plus the LCS arguments documented in `LcsDense`
    (``input_tile`` does not apply). ``structured`` keeps a prefix of filters.
    Implemented once for every rank by `LcsConvMixin`.
    """
