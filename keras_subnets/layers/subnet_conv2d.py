# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""2-D convolution holding nested sub-networks."""

import keras

from keras_subnets.layers.subnet_conv import SubnetConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetConv2D(SubnetConvMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose filters hold several nested levels.

    Takes every argument of `keras.layers.Conv2D` (``channels_last`` only)
    plus ``levels``, ``mask_kind``, ``level_widths`` and ``keep_row_max`` as
    documented in `SubnetDense`; ``structured`` keeps a prefix of filters.

    The canonical weight matrix has one row per filter, columns in TFLite's
    OHWI order: ``rows[o, (ky * kw + kx) * cin + ci] = kernel[ky, kx, ci, o]``.
    ``block`` pairs are therefore neighbouring input channels. Implemented
    once for every rank by `SubnetConvMixin`.
    """
