# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""What `LcsDense` adds to the shared LCS layer: its structured masks, ``input_tile`` included.

Oracles: numpy masks built from the documented layout (input index
``position · channels + channel``) and `keras.layers.Dense` given the
effective weights.
"""

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.lcs import LcsDense, alpha_override
from keras_subnets.lcs.coordinates import width_fraction
from keras_subnets.lcs.lcs_layer import prefix_width_numpy


def _prefix(fraction, size):
    return (np.arange(size) < prefix_width_numpy(fraction, size)).astype("float32")


def _effective(layer, alpha):
    with alpha_override(alpha):
        kernel, bias = layer.effective_weights()
    return keras.ops.convert_to_numpy(kernel), keras.ops.convert_to_numpy(bias)


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
def test_structured_inputs_keep_a_channel_prefix_at_every_flattened_position(alpha):
    channels, positions, units = 4, 3, 6
    layer = LcsDense(units, compression="structured", structured_inputs=True, input_tile=positions)
    x = np.random.default_rng(0).normal(size=(5, positions * channels)).astype("float32")
    layer(x)
    layer.bias.assign(np.arange(1, units + 1, dtype="float32"))
    fraction = float(width_fraction(alpha))
    in_mask = np.tile(_prefix(fraction, channels), positions)  # index = position * channels + channel
    out_mask = _prefix(fraction, units)
    kernel, bias = _effective(layer, alpha)
    full = keras.ops.convert_to_numpy(layer.kernel)
    np.testing.assert_array_equal(kernel, full * in_mask[:, None] * out_mask[None, :])
    np.testing.assert_array_equal(bias, np.arange(1, units + 1) * out_mask)
    plain = keras.layers.Dense(units)
    plain.build(x.shape)
    plain.set_weights([kernel, bias])
    with alpha_override(alpha):
        got = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-6, atol=1e-6)


def test_a_classifier_keeps_every_unit_and_a_first_layer_every_input():
    x = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    layer = LcsDense(5, compression="structured", structured_inputs=False, structured_outputs=False)
    layer(x)
    kernel, _ = _effective(layer, 0.0)
    np.testing.assert_array_equal(kernel, keras.ops.convert_to_numpy(layer.kernel))


def test_config_round_trip():
    layer = LcsDense(4, activation="relu", compression="structured", variant="line", min_bits=4, max_bits=6,
                     regularization=0.5, structured_inputs=True, structured_outputs=False, input_tile=3)
    testing.assert_config_round_trip(layer, compression="structured", variant="line", min_bits=4, max_bits=6,
                                     regularization=0.5, structured_inputs=True, structured_outputs=False,
                                     input_tile=3)
