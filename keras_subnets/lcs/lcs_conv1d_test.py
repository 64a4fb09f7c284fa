# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`LcsConv1D`: Keras' Conv1D arguments (causal padding, dilation) and the structured prefixes of its kernel.

Oracles: numpy masks over the ``(kernel, inputs, filters)`` kernel and
`keras.layers.Conv1D` given the effective weights.
"""

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.lcs import LcsConv1D, alpha_override
from keras_subnets.lcs.coordinates import width_fraction
from keras_subnets.lcs.lcs_layer import prefix_width_numpy

CONV = dict(filters=6, kernel_size=3, padding="causal", dilation_rate=2)


def _prefix(fraction, size):
    return (np.arange(size) < prefix_width_numpy(fraction, size)).astype("float32")


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_structured_masks_and_a_causal_dilated_pass_match_keras(alpha):
    x = np.random.default_rng(0).normal(size=(2, 10, 5)).astype("float32")
    layer = LcsConv1D(**CONV, compression="structured", structured_inputs=True)
    layer(x)
    layer.bias.assign(np.arange(1, 7, dtype="float32"))
    fraction = float(width_fraction(alpha))
    with alpha_override(alpha):
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.effective_weights())
        got = keras.ops.convert_to_numpy(layer(x))
    full = keras.ops.convert_to_numpy(layer.kernel)
    want_mask = _prefix(fraction, 5)[None, :, None] * _prefix(fraction, 6)[None, None, :]
    np.testing.assert_array_equal(kernel, full * want_mask)
    np.testing.assert_array_equal(bias, np.arange(1, 7) * _prefix(fraction, 6))
    plain = keras.layers.Conv1D(**CONV)
    plain.build(x.shape)
    plain.set_weights([kernel, bias])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5)


def test_config_round_trip():
    layer = LcsConv1D(**CONV, compression="bits", variant="line", min_bits=5, max_bits=7, regularization=0.25)
    testing.assert_config_round_trip(layer, padding="causal", dilation_rate=(2,), compression="bits",
                                     variant="line", min_bits=5, max_bits=7, regularization=0.25)
