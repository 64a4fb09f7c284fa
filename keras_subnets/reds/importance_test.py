# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Unit importance against gradients and sums written out in numpy."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import reds


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_importance_is_weight_times_gradient_summed_per_unit_over_batches():
    """One softmax Dense layer: the cross-entropy gradient is ``x^T (p - onehot) / batch`` (numpy)."""
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="softmax", name="out")])
    model.get_layer("out").set_weights([rng.normal(size=(5, 4)).astype("float32"),
                                        rng.normal(size=4).astype("float32")])
    x = rng.normal(size=(10, 5)).astype("float32")
    y = rng.integers(0, 4, size=10)
    kernel, bias = model.get_layer("out").get_weights()
    expected = np.zeros(4)
    for start in (0, 4, 8):  # batches of 4, 4 and 2
        xb, yb = x[start:start + 4].astype(np.float64), y[start:start + 4]
        delta = (_softmax(xb @ kernel + bias) - np.eye(4)[yb]) / len(xb)
        expected += np.abs(kernel * (xb.T @ delta)).sum(axis=0) + np.abs(bias * delta.sum(axis=0))
    scores = reds.unit_importance(model, x, y, batches=5, batch_size=4)
    np.testing.assert_allclose(scores["out"], expected, rtol=1e-4)
    # Only the batches asked for are used.
    first = reds.unit_importance(model, x, y, batches=1, batch_size=4)["out"]
    assert np.all(first < scores["out"])


def test_importance_of_a_convolutional_model_has_one_score_per_unit():
    rng = np.random.default_rng(1)
    model = ks.zoo.quickstart_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.uniform(size=(32, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, size=32)
    scores = reds.unit_importance(model, x, y, batches=1, batch_size=32)
    assert scores["stem"].shape == (32,) and scores["dw1"].shape == (32,) and scores["classifier"].shape == (10,)
    assert all(np.all(v >= 0) and np.any(v > 0) for v in scores.values())
    with pytest.raises(ValueError, match="no samples"):
        reds.unit_importance(model, x[:0], y[:0])


def test_magnitude_importance_sums_each_units_weights():
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(x)
    model = keras.Model(inputs, keras.layers.Dense(5, name="fc")(keras.layers.Flatten()(x)))
    scores = reds.magnitude_importance(model)
    conv = model.get_layer("conv").kernel.numpy()
    dw = model.get_layer("dw").kernel.numpy()  # (3, 3, 4 channels, 2 multipliers)
    fc = model.get_layer("fc").kernel.numpy()
    np.testing.assert_allclose(scores["conv"], np.abs(conv).sum(axis=(0, 1, 2)), rtol=1e-6)
    # A depthwise unit is (input channel, multiplier), in the order TFLite lays out its outputs.
    np.testing.assert_allclose(scores["dw"], [np.abs(dw[:, :, c, m]).sum() for c in range(4) for m in range(2)],
                               rtol=1e-6)
    np.testing.assert_allclose(scores["fc"], np.abs(fc).sum(axis=0), rtol=1e-6)
