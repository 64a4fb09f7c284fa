# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Depthwise 1-D convolution holding nested sub-networks."""

import keras

from keras_subnets.layers.subnet_conv import SubnetDepthwiseConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetDepthwiseConv1D(SubnetDepthwiseConvMixin, keras.layers.DepthwiseConv1D):
    """`keras.layers.DepthwiseConv1D` whose kernels hold several nested levels.

    Takes every argument of `keras.layers.DepthwiseConv1D`
    (``channels_last`` only) plus ``levels``, ``mask_kind``,
    ``level_widths`` and ``keep_row_max`` as documented in `SubnetDense`.

    TFLite runs it as a depthwise 2-D convolution of height 1: one row per
    output channel ``o = ci * depth_multiplier + m`` with the ``kw`` taps as
    columns, as `SubnetDepthwiseConv2D` with ``kh = 1``. A ``structured``
    layer's channels follow its input's. Implemented once for every rank by
    `SubnetDepthwiseConvMixin`.
    """
