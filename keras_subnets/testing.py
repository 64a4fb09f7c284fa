# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Checks shared by the layer tests (independent oracles: plain Keras layers)."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf

from keras_subnets import levels as levels_lib
from keras_subnets.model_layers import model_layers


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


def _own_arguments(cls) -> set[str]:
    """Constructor arguments ``cls`` adds to the Keras layer it extends."""
    base = next(c for c in cls.__mro__[1:] if c.__module__.startswith("keras."))
    named = {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY}

    def names(c):
        return {p.name for p in inspect.signature(c.__init__).parameters.values()
                if p.kind in named and p.name != "self"}

    return names(cls) - names(base)


def assert_config_round_trip(layer, **expected) -> None:
    """``get_config`` holds every argument of ours and ``from_config`` restores it.

    A key missing from ``get_config`` would be missing from the clone's config
    too, so comparing the two configs alone cannot catch it: every argument
    the class adds to its Keras base must be a key, and ``expected`` (the
    non-default values the layer was built with) must come back unchanged.
    """
    config = layer.get_config()
    missing = _own_arguments(type(layer)) - config.keys()
    assert not missing, f"{type(layer).__name__}.get_config() drops {sorted(missing)}"
    for name, value in expected.items():
        assert config[name] == value, f"get_config()['{name}'] is {config[name]!r}, built with {value!r}"
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def vary_batch_norm_per_level(model, seed: int = 0, spread: float = 0.2) -> int:
    """Gives every row of every per-level BatchNorm its own statistics, as training does.

    A freshly nested model copies one BatchNorm into every level, so the
    per-level tables the converter folds from it are identical and format
    version 2 stores them once; trained models have per-level statistics
    and need every level's tables. Level ``k``'s ``moving_mean`` moves by
    ``spread`` standard deviations and its ``moving_variance`` scales by up
    to ``1 ± spread`` (deterministic in ``seed``).

    Returns:
        The number of BatchNorm layers changed.
    """
    from keras_subnets.layers import LevelBatchNormalization

    rng = np.random.default_rng(seed)
    changed = 0
    for layer in model_layers(model):
        if not isinstance(layer, LevelBatchNormalization):
            continue
        mean = keras.ops.convert_to_numpy(layer.moving_mean)
        var = keras.ops.convert_to_numpy(layer.moving_variance)
        std = np.sqrt(var)
        layer.moving_mean.assign((mean + spread * std * rng.standard_normal(mean.shape)).astype(mean.dtype))
        layer.moving_variance.assign((var * rng.uniform(1 - spread, 1 + spread, var.shape)).astype(var.dtype))
        changed += 1
    return changed
