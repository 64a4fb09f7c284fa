# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Depthwise 2-D convolution holding nested sub-networks."""

import keras

from keras_subnets.layers.subnet_conv import SubnetDepthwiseConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetDepthwiseConv2D(SubnetDepthwiseConvMixin, keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D` whose kernels hold several nested levels.

    Takes every argument of `keras.layers.DepthwiseConv2D`
    (``channels_last`` only) plus ``levels``, ``mask_kind``, ``level_widths``
    and ``keep_row_max`` as documented in `SubnetDense`.

    One row per output channel ``o = ci * depth_multiplier + m`` with the
    ``kh * kw`` taps as columns (``block`` pairs neighbouring taps of a
    kernel row). A ``structured`` depthwise layer's channels follow its
    input's: `nest` couples them to the upstream layer's width. Implemented
    once for every rank by `SubnetDepthwiseConvMixin`.
    """
