# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""REDS on 1-D and separable convolutions, and its refusals of layers it cannot follow."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import reds, registry

L = keras.layers


def _one_d():
    inputs = keras.Input((24, 3))
    x = L.Conv1D(12, 3, strides=2, padding="same", name="conv")(inputs)
    x = L.BatchNormalization(name="conv_bn")(x)
    x = L.ReLU()(x)
    x = L.DepthwiseConv1D(3, padding="same", name="dw")(x)
    x = L.MaxPooling1D(2)(x)
    x = L.SeparableConv1D(16, 3, padding="same", activation="relu", name="sep")(x)
    x = L.AveragePooling1D(2)(x)
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, L.Dense(4, activation="softmax", name="head")(x))


def _separable():
    inputs = keras.Input((8, 8, 2))
    x = L.Conv2D(12, 3, padding="same", name="stem")(inputs)
    x = L.SeparableConv2D(16, 3, padding="same", activation="relu", name="sep")(x)
    x = L.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, L.Dense(4, activation="softmax", name="head")(x))


def _bn_random(model):
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])
    return model


@pytest.mark.parametrize("build", [_one_d, _separable])
def test_permutation_keeps_the_function_of_1d_and_separable_models(build):
    model = registry.expand_split_layers(_bn_random(build()))
    shape = tuple(model.inputs[0].shape[1:])
    x = np.random.default_rng(1).normal(size=(5, *shape)).astype("float32")
    before = model.predict(x, verbose=0)
    applied = reds.permute_channels(model, reds.magnitude_importance(model))
    assert {"conv", "stem"} & set(applied) and "sep_pointwise" in applied
    assert any(not np.array_equal(p, np.arange(len(p))) for p in applied.values())
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", [_one_d, _separable])
def test_fit_subnets_plans_and_nests_1d_and_separable_models(build):
    base = _bn_random(build())
    shape = tuple(base.inputs[0].shape[1:])
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(32, *shape)).astype("float32"), rng.integers(0, 4, 32)
    model, chosen = reds.fit_subnets(base, x, y, fractions=(0.4, 0.7, 1.0), epochs=0, importance_batches=1,
                                     batch_size=16, min_units=2, verbose=0)
    assert "sep_pointwise" in chosen.widths
    macs = [ks.level_costs(model, k)["macs"] for k in range(3)]
    assert macs[0] < macs[1] < macs[2]
    # The densest level is the whole (permuted) network: the same function as the input model.
    with ks.level(model, 2):
        np.testing.assert_allclose(model.predict(x, verbose=0), base.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_reds_names_a_layer_it_cannot_follow_and_the_alternative():
    inputs = keras.Input((10, 3))
    x = L.Conv1D(8, 3, name="conv")(inputs)
    x = L.LSTM(6, return_sequences=True, name="lstm")(x)
    x = L.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, L.Dense(2, activation="softmax", name="head")(x))
    with pytest.raises(ValueError, match=r"'lstm' \(LSTM\).*no sub-network version.*keep_dense.*'unstructured'"):
        reds.permute_channels(model, reds.magnitude_importance(model))
    # The alternative the message names works.
    nested = ks.nest(model, [0.5, 0.0], kind="row", keep_dense=["lstm"])
    assert type(nested.get_layer("lstm")) is L.LSTM


def test_a_split_layer_given_directly_to_the_graph_is_named_with_the_fix():
    model = _separable()
    with pytest.raises(ValueError, match=r"'sep' \(SeparableConv2D\).*expand_split_layers"):
        reds.permute_channels(model, {la.name: np.ones(4) for la in model.layers})
