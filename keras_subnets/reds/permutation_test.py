# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import reds


def _flatten_model():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(6, 3, padding="same", name="c1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(12, activation="relu", name="d1")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(x))


def _depthwise_model():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 1, name="c1")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = keras.layers.Conv2D(3, 1, name="c2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(x))
    rng = np.random.default_rng(3)
    for layer in model.layers:  # biases too: zeros would hide a bias left in place
        layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return model


def _randomise_bn(model):
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])


@pytest.mark.parametrize("build", [ks.zoo.ds_cnn_s, ks.zoo.quickstart_cnn, _flatten_model])
def test_permutation_keeps_the_function_and_sorts_importance(build):
    model = build(input_shape=(8, 8, 1)) if build is not _flatten_model else build()
    _randomise_bn(model)
    x = np.random.default_rng(1).normal(size=(6, 8, 8, 1)).astype("float32")
    before = model.predict(x, verbose=0)
    importance = reds.magnitude_importance(model)
    applied = reds.permute_channels(model, importance)
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-5, atol=1e-6)
    assert applied
    after = reds.magnitude_importance(model)
    scores = reds.permutation.group_scores(ks.graph.trace_channels(model), after)
    for name in applied:
        assert np.all(np.diff(scores[name]) <= 1e-6), name


def test_group_scores_add_the_depthwise_channels_that_follow_a_group():
    model = _depthwise_model()
    rng = np.random.default_rng(2)
    importance = {"c1": rng.uniform(size=4), "dw": rng.uniform(size=8), "c2": rng.uniform(size=3),
                  "head": rng.uniform(size=2)}
    scores = reds.permutation.group_scores(ks.graph.trace_channels(model), importance)
    # dw's unit c * 2 + m reads channel c of c1.
    np.testing.assert_allclose(scores["c1"], importance["c1"] + importance["dw"].reshape(4, 2).sum(axis=1))
    np.testing.assert_allclose(scores["c2"], importance["c2"])
    np.testing.assert_allclose(scores["head"], importance["head"])


def test_permutation_moves_units_and_the_rows_that_read_them():
    model = _depthwise_model()
    old = {name: [w.numpy() for w in model.get_layer(name).weights] for name in ("c1", "dw", "c2")}
    importance = {"c1": np.array([0.1, 0.9, 0.5, 0.7]), "dw": np.zeros(8), "c2": np.array([0.2, 0.1, 0.3]),
                  "head": np.ones(2)}
    perms = reds.permute_channels(model, importance)
    np.testing.assert_array_equal(perms["c1"], [1, 3, 2, 0])
    np.testing.assert_array_equal(perms["c2"], [2, 0, 1])
    assert "head" not in perms  # the classifier keeps its order
    c1, dw, c2 = ([w.numpy() for w in model.get_layer(n).weights] for n in ("c1", "dw", "c2"))
    np.testing.assert_array_equal(c1[0], old["c1"][0][..., [1, 3, 2, 0]])
    np.testing.assert_array_equal(c1[1], old["c1"][1][[1, 3, 2, 0]])
    np.testing.assert_array_equal(dw[0], old["dw"][0][:, :, [1, 3, 2, 0], :])
    np.testing.assert_array_equal(dw[1], old["dw"][1].reshape(4, 2)[[1, 3, 2, 0]].reshape(-1))
    rows = [c * 2 + m for c in (1, 3, 2, 0) for m in range(2)]
    np.testing.assert_array_equal(c2[0], old["c2"][0][:, :, rows, :][..., [2, 0, 1]])
    np.testing.assert_array_equal(c2[1], old["c2"][1][[2, 0, 1]])


def test_permutation_rejects_channel_reordering_layers_by_name():
    inputs = keras.Input((6, 6, 4))
    a = keras.layers.Conv2D(4, 1)(inputs)
    x = keras.layers.Permute((1, 3, 2), name="swap")(a)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    with pytest.raises(ValueError, match="'swap' \\(Permute\\) mixes or reorders"):
        reds.permute_channels(model, reds.magnitude_importance(model))
