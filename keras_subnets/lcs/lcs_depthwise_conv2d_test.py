# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`LcsDepthwiseConv2D`: a structured layer keeps its input's channel prefix with every multiplier output.

Oracles: numpy masks over the ``(kh, kw, channels, depth_multiplier)``
kernel and `keras.layers.DepthwiseConv2D` given the effective weights.
"""

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.lcs import LcsDepthwiseConv2D
from keras_subnets.lcs import testing as lcs_testing

CONV = dict(kernel_size=3, depth_multiplier=3, strides=2, padding="valid")


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
def test_structured_keeps_the_channel_prefix_and_all_its_outputs(alpha):
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 4)).astype("float32")
    lcs_testing.assert_depthwise_keeps_channel_prefix(LcsDepthwiseConv2D, keras.layers.DepthwiseConv2D, CONV, x,
                                                      alpha)


def test_config_round_trip():
    layer = LcsDepthwiseConv2D(**CONV, compression="bits", min_bits=3, max_bits=5, structured_inputs=True)
    testing.assert_config_round_trip(layer, depth_multiplier=3, compression="bits", min_bits=3, max_bits=5,
                                     structured_inputs=True)
