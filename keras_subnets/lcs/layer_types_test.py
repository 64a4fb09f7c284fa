# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""LCS on Conv1D, DepthwiseConv1D and SeparableConv1D/2D: train, save, export, convert."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import lcs
from keras_subnets.convert import convert, densify
from keras_subnets.convert.reference import run_tflm

L = keras.layers


def _one_d():
    inputs = keras.Input((16, 3))
    x = L.Conv1D(8, 3, strides=2, padding="same", name="conv")(inputs)
    x = L.BatchNormalization(name="conv_bn")(x)
    x = L.ReLU()(x)
    x = L.DepthwiseConv1D(3, padding="same", name="dw")(x)
    x = L.BatchNormalization(name="dw_bn")(x)
    x = L.ReLU()(x)
    x = L.SeparableConv1D(12, 3, padding="same", name="sep")(x)
    x = L.BatchNormalization(name="sep_bn")(x)
    x = L.ReLU()(x)
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, L.Dense(5, activation="softmax", name="classifier")(x))


def _separable():
    inputs = keras.Input((8, 8, 2))
    x = L.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU()(x)
    x = L.SeparableConv2D(12, 3, padding="same", name="sep")(x)
    x = L.BatchNormalization(name="sep_bn")(x)
    x = L.ReLU()(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, L.Dense(5, activation="softmax", name="classifier")(x))


def _trained(build, kind, norm):
    keras.utils.set_random_seed(4)
    base = build()
    shape = tuple(base.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, *shape)).astype("float32"), rng.integers(0, 5, 16)
    model = lcs.subspace(base, kind=kind, norm=norm)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", jit_compile=False)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    return model, x


@pytest.mark.parametrize("build, kind, norm, alphas", [
    (_one_d, "unstructured", "batch_per_level", [0.1, 0.4, 1.0]),
    pytest.param(_one_d, "structured", "group", [0.0, 0.5, 1.0], marks=pytest.mark.slow),
    pytest.param(_separable, "unstructured", "batch_per_level", [0.1, 0.4, 1.0], marks=pytest.mark.slow),
    pytest.param(_separable, "structured", "group", [0.0, 0.5, 1.0], marks=pytest.mark.slow),
])
def test_exported_levels_match_the_subspace_through_the_converter(build, kind, norm, alphas, tmp_path):
    model, x = _trained(build, kind, norm)
    types = {type(la).__name__ for la in model.layers}
    assert "SeparableConv1D" not in types and "SeparableConv2D" not in types
    if build is _one_d:
        assert {"LcsConv1D", "LcsDepthwiseConv1D"} <= types
    path = tmp_path / "lcs.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    with lcs.alpha(model, 0.5), lcs.alpha(loaded, 0.5):
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    exported = lcs.export_levels(model, alphas)
    blob = convert(exported, quantize="float32", progress=False)
    nonzeros = [ks.level_costs(exported, k)["nonzeros"] for k in range(len(alphas))]
    assert nonzeros == sorted(nonzeros) and nonzeros[0] < nonzeros[-1]
    for k, alpha in enumerate(alphas):
        with lcs.alpha(model, alpha):
            expected = model.predict(x, verbose=0)
        # Materialised α: plain Keras layers with the effective weights (Keras's own layers as oracle).
        with lcs.alpha(model, alpha):
            np.testing.assert_allclose(lcs.materialize(model, alpha).predict(x, verbose=0), expected,
                                       rtol=1e-5, atol=1e-6)
        got = run_tflm(densify(blob, k), x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=f"level {k} (α={alpha})")
