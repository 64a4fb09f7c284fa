# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The shared layer checks fail on the bugs they exist to catch, and pass on correct layers."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import testing
from keras_subnets.layers import LevelBatchNormalization, SubnetDense


class _Scaled(keras.layers.Dense):
    """A correct layer: one argument of its own, kept by ``get_config``."""

    def __init__(self, units, scale: float = 1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class _DropsScale(_Scaled):
    """``get_config`` forgets ``scale``: a saved model comes back with the default."""

    def get_config(self):
        return keras.layers.Dense.get_config(self)


class _IgnoresScale(_Scaled):
    """Takes ``scale`` and stores the default instead."""

    def __init__(self, units, scale: float = 1.0, **kwargs):
        super().__init__(units, **kwargs)


class _DriftingScale(_Scaled):
    """``from_config`` does not give back the layer it was given: every round trip adds 1."""

    def __init__(self, units, scale: float = 1.0, **kwargs):
        super().__init__(units, scale=scale + 1.0, **kwargs)


class _Unmasked(SubnetDense):
    """A nested layer that forgets its masks: every level computes with the whole kernel."""

    def _masked_kernel(self):
        return self.kernel


def test_config_round_trip_passes_for_a_correct_layer():
    testing.assert_config_round_trip(_Scaled(3, scale=2.5), scale=2.5)
    testing.assert_config_round_trip(SubnetDense(3, levels=[0.5, 0.0], mask_kind="row"), mask_kind="row")


def test_config_round_trip_fails_when_get_config_drops_an_argument():
    with pytest.raises(AssertionError, match=r"_DropsScale.get_config\(\) drops \['scale'\]"):
        testing.assert_config_round_trip(_DropsScale(3, scale=2.5))


def test_config_round_trip_fails_when_the_built_value_does_not_come_back():
    with pytest.raises(AssertionError, match=r"get_config\(\)\['scale'\] is 1.0, built with 2.5"):
        testing.assert_config_round_trip(_IgnoresScale(3, scale=2.5), scale=2.5)


def test_config_round_trip_fails_when_from_config_changes_the_layer():
    with pytest.raises(AssertionError):
        testing.assert_config_round_trip(_DriftingScale(3, scale=2.5))


def test_masked_keras_check_passes_for_a_nested_layer_and_fails_without_masks():
    x = np.random.default_rng(0).normal(size=(4, 9)).astype("float32")
    testing.assert_matches_masked_keras(SubnetDense(5, levels=[0.7, 0.0]), keras.layers.Dense, {"units": 5}, x)
    with pytest.raises(AssertionError, match="level 0"):
        testing.assert_matches_masked_keras(_Unmasked(5, levels=[0.7, 0.0]), keras.layers.Dense, {"units": 5}, x)


def test_gradient_routing_check_fails_when_gradients_leak_outside_the_level():
    x = np.random.default_rng(1).normal(size=(4, 9)).astype("float32")
    testing.assert_gradient_routing(SubnetDense(5, levels=[0.7, 0.0]), x)
    with pytest.raises(AssertionError, match="level 0: gradient leaks outside its mask"):
        testing.assert_gradient_routing(_Unmasked(5, levels=[0.7, 0.0]), x)


def _nested_with_batch_norm():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return ks.nest(keras.Model(inputs, keras.layers.Dense(3, name="head")(x)), [0.5, 0.0])


def _tables(model):
    bn = next(la for la in ks.model_layers.model_layers(model) if isinstance(la, LevelBatchNormalization))
    return keras.ops.convert_to_numpy(bn.moving_mean).copy(), keras.ops.convert_to_numpy(bn.moving_variance).copy()


def test_vary_batch_norm_gives_each_level_its_own_statistics_within_the_spread():
    model = _nested_with_batch_norm()
    mean, var = _tables(model)
    assert np.array_equal(mean[0], mean[1])  # a fresh nest copies one BatchNorm into every level
    assert testing.vary_batch_norm_per_level(model, seed=3, spread=0.2) == 1
    new_mean, new_var = _tables(model)
    assert not np.allclose(new_mean[0], new_mean[1]) and not np.allclose(new_var[0], new_var[1])
    ratio = new_var / var
    assert np.all((ratio >= 0.8 - 1e-6) & (ratio <= 1.2 + 1e-6))
    # Deterministic in the seed: the same seed on a fresh copy gives the same tables.
    again = _nested_with_batch_norm()
    testing.vary_batch_norm_per_level(again, seed=3, spread=0.2)
    np.testing.assert_array_equal(_tables(again)[1], new_var)
