# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`LcsConv2D`: its structured prefixes (inputs, filters, or inputs only for a last layer) against Keras.

Oracles: numpy masks over the ``(kh, kw, inputs, filters)`` kernel and
`keras.layers.Conv2D` given the effective weights.
"""

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.lcs import LcsConv2D, alpha_override
from keras_subnets.lcs.coordinates import width_fraction
from keras_subnets.lcs.lcs_layer import prefix_width_numpy

CONV = dict(filters=8, kernel_size=3, strides=2, padding="same")


def _prefix(fraction, size):
    return (np.arange(size) < prefix_width_numpy(fraction, size)).astype("float32")


@pytest.mark.parametrize("structured_outputs", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_structured_masks_match_keras(alpha, structured_outputs):
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 4)).astype("float32")
    layer = LcsConv2D(**CONV, compression="structured", structured_inputs=True,
                      structured_outputs=structured_outputs)
    layer(x)
    layer.bias.assign(np.arange(1, 9, dtype="float32"))
    fraction = float(width_fraction(alpha))
    out_mask = _prefix(fraction, 8) if structured_outputs else np.ones(8, "float32")
    with alpha_override(alpha):
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.effective_weights())
        got = keras.ops.convert_to_numpy(layer(x))
    full = keras.ops.convert_to_numpy(layer.kernel)
    np.testing.assert_array_equal(kernel, full * _prefix(fraction, 4)[:, None] * out_mask)
    np.testing.assert_array_equal(bias, np.arange(1, 9) * out_mask)
    plain = keras.layers.Conv2D(**CONV)
    plain.build(x.shape)
    plain.set_weights([kernel, bias])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5)


def test_config_round_trip():
    layer = LcsConv2D(**CONV, compression="structured", variant="line", regularization=0.0,
                      structured_inputs=True, structured_outputs=False)
    testing.assert_config_round_trip(layer, strides=(2, 2), compression="structured", variant="line",
                                     regularization=0.0, structured_inputs=True, structured_outputs=False)
