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
from keras_subnets.lcs import LcsDepthwiseConv2D, alpha_override
from keras_subnets.lcs.coordinates import width_fraction
from keras_subnets.lcs.lcs_layer import prefix_width_numpy

CONV = dict(kernel_size=3, depth_multiplier=3, strides=2, padding="valid")


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
def test_structured_keeps_the_channel_prefix_and_all_its_outputs(alpha):
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 4)).astype("float32")
    layer = LcsDepthwiseConv2D(**CONV, compression="structured", structured_inputs=True)
    layer(x)
    layer.bias.assign(np.arange(1, 13, dtype="float32"))
    kept = prefix_width_numpy(float(width_fraction(alpha)), 4)
    channel = (np.arange(4) < kept).astype("float32")
    with alpha_override(alpha):
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.effective_weights())
        got = keras.ops.convert_to_numpy(layer(x))
    full = keras.ops.convert_to_numpy(layer.kernel)
    np.testing.assert_array_equal(kernel, full * channel[None, None, :, None])
    np.testing.assert_array_equal(bias, np.arange(1, 13) * (np.arange(12) < 3 * kept))
    plain = keras.layers.DepthwiseConv2D(**CONV)
    plain.build(x.shape)
    plain.set_weights([kernel, bias])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5)


def test_config_round_trip():
    layer = LcsDepthwiseConv2D(**CONV, compression="bits", min_bits=3, max_bits=5, structured_inputs=True)
    testing.assert_config_round_trip(layer, depth_multiplier=3, compression="bits", min_bits=3, max_bits=5,
                                     structured_inputs=True)
