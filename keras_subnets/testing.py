"""Checks shared by the layer tests (independent oracles: plain Keras layers)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_subnets import levels as levels_lib


def assert_matches_masked_keras(layer, plain_cls, plain_config: dict, x: np.ndarray) -> None:
    """At every level, ``layer(x)`` equals a plain Keras layer with masked weights."""
    layer(x)
    masks = layer.level_masks()
    for k in range(layer.num_levels):
        plain = plain_cls(**plain_config)
        plain(x)
        weights = [keras.ops.convert_to_numpy(layer.kernel) * masks[k]]
        if layer.use_bias:
            bias = keras.ops.convert_to_numpy(layer.bias)
            unit = keras.ops.convert_to_numpy(layer.unit_level)
            weights.append(bias * (unit <= k))
        plain.set_weights(weights)
        with levels_lib.level_override(k):
            got = keras.ops.convert_to_numpy(layer(x))
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5,
                                   err_msg=f"level {k}")


def assert_gradient_routing(layer, x: np.ndarray) -> None:
    """The loss of level k gives exactly zero gradient to weights outside level k."""
    layer(x)
    masks = layer.level_masks()
    for k in range(layer.num_levels):
        with tf.GradientTape() as tape, levels_lib.level_override(k):
            loss = tf.reduce_sum(tf.square(layer(x)))
        grad = tape.gradient(loss, layer.kernel).numpy()
        assert np.all(grad[~masks[k]] == 0.0), f"level {k}: gradient leaks outside its mask"
        assert np.any(grad[masks[k]] != 0.0), f"level {k}: no gradient inside its mask"


def assert_config_round_trip(layer) -> None:
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
