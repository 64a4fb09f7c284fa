# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

import keras_subnets as ks


class _CountTraces(keras.layers.Layer):
    """Identity that counts how often its Python code runs (once per trace in graph mode)."""

    traces = 0

    def call(self, x):
        _CountTraces.traces += 1
        return x


def _model():
    inputs = keras.Input((6,))
    outputs = ks.SubnetDense(3, levels=[0.8, 0.0])(_CountTraces()(inputs))
    return ks.SubnetModel(inputs, outputs)


def test_set_level_switches_compiled_predict_without_retracing():
    model = _model()
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    dense = model.predict(x, verbose=0)
    traced = _CountTraces.traces
    ks.set_level(model, 0)
    sparse = model.predict(x, verbose=0)
    assert not np.allclose(dense, sparse)
    assert _CountTraces.traces == traced, "set_level retraced predict"
    layer = model.subnet_layers()[0]
    kernel = keras.ops.convert_to_numpy(layer.kernel) * layer.level_masks()[0]
    np.testing.assert_allclose(sparse, x @ kernel + keras.ops.convert_to_numpy(layer.bias), rtol=1e-5)
    ks.set_level(model, -1)
    assert ks.get_level(model) == 1
    np.testing.assert_array_equal(model.predict(x, verbose=0), dense)


def test_level_context_restores_the_previous_level():
    model = _model()
    with ks.level(model, 0):
        assert ks.get_level(model) == 0
    assert ks.get_level(model) == 1


def test_errors_name_the_model_and_level():
    model = _model()
    with pytest.raises(ValueError, match="levels 0..1; got level 2"):
        ks.set_level(model, 2)
    with pytest.raises(ValueError, match="whole number .* got 1.5"):
        ks.set_level(model, 1.5)
    ks.set_level(model, 1.0)
    assert ks.get_level(model) == 1
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="no sub-network layer"):
        ks.set_level(plain, 0)


def test_switched_restores_the_previous_setting_when_the_body_raises():
    from keras_subnets.selection import switched

    state = {"m": 2}
    writes = []

    def put(model, value):
        writes.append(value)
        state[model] = value

    with pytest.raises(RuntimeError, match="body"), switched("m", 0, lambda model: state[model], put) as model:
        assert model == "m" and state["m"] == 0
        raise RuntimeError("body")
    assert state["m"] == 2 and writes == [0, 2]
