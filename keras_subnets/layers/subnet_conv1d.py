# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""1-D convolution holding nested sub-networks."""

import keras

from keras_subnets.layers.subnet_conv import SubnetConvMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetConv1D(SubnetConvMixin, keras.layers.Conv1D):
    """`keras.layers.Conv1D` whose filters hold several nested levels.

    Takes every argument of `keras.layers.Conv1D` (``channels_last``,
    ``groups=1``; ``causal`` padding included) plus ``levels``,
    ``mask_kind``, ``level_widths`` and ``keep_row_max`` as documented in
    `SubnetDense`; ``structured`` keeps a prefix of filters.

    TFLite runs it as a 2-D convolution of height 1, so the canonical weight
    matrix is `SubnetConv2D`'s with ``kh = 1``: one row per filter,
    ``rows[o, kx * cin + ci] = kernel[kx, ci, o]``. Implemented once for
    every rank by `SubnetConvMixin`.
    """
