# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`LcsDepthwiseConv1D`: a structured layer keeps its input's channel prefix with every multiplier output.

Oracles: numpy masks over the ``(kernel, channels, depth_multiplier)``
kernel and `keras.layers.DepthwiseConv1D` given the effective weights.
"""

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.lcs import LcsDepthwiseConv1D, alpha_override
from keras_subnets.lcs import testing as lcs_testing

CONV = dict(kernel_size=3, depth_multiplier=2, padding="same")


@pytest.mark.parametrize("structured_outputs", [True, False])  # ignored by a depthwise layer
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_structured_keeps_the_channel_prefix_and_all_its_outputs(alpha, structured_outputs):
    x = np.random.default_rng(0).normal(size=(2, 9, 6)).astype("float32")
    lcs_testing.assert_depthwise_keeps_channel_prefix(LcsDepthwiseConv1D, keras.layers.DepthwiseConv1D, CONV, x,
                                                      alpha, structured_outputs=structured_outputs)


def test_without_structured_inputs_every_channel_stays():
    x = np.random.default_rng(1).normal(size=(1, 5, 4)).astype("float32")
    layer = LcsDepthwiseConv1D(3, compression="structured", structured_inputs=False)
    layer(x)
    with alpha_override(0.0):
        kernel, _ = layer.effective_weights()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel), keras.ops.convert_to_numpy(layer.kernel))


def test_config_round_trip():
    layer = LcsDepthwiseConv1D(**CONV, compression="unstructured", variant="line", regularization=2.0)
    testing.assert_config_round_trip(layer, depth_multiplier=2, compression="unstructured", variant="line",
                                     regularization=2.0)
