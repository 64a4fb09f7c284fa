# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Plain models of a level and the BatchNorm folding, against the nested model run by Keras."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert.export import fold_plan, plain_model
from keras_subnets.layers import LevelBatchNormalization, SubnetLayerMixin

LEVELS = [0.7, 0.3, 0.0]


def _randomise_rows(model):
    """Different BatchNorm statistics and affine terms at every level."""
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, LevelBatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if w.ndim else w
                               for w in layer.get_weights()])


def _cnn():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    base = keras.Model(inputs, keras.layers.Dense(3, name="head")(x))
    model = ks.nest(base, LEVELS)
    _randomise_rows(model)
    return model


def test_plain_model_of_each_level_computes_that_level():
    model = _cnn()
    x = np.random.default_rng(1).normal(size=(4, 8, 8, 2)).astype("float32")
    for level in range(len(LEVELS)):
        plain = plain_model(model, level)
        assert not any(isinstance(la, SubnetLayerMixin | LevelBatchNormalization) for la in plain.layers)
        with ks.level(model, level):
            expected = model(x, training=False)
        np.testing.assert_allclose(plain(x, training=False), expected, rtol=1e-5, atol=1e-5)


def test_folded_affine_is_the_batch_norm_after_the_masked_layer():
    model = _cnn()
    (conv, head) = fold_plan(model)
    assert conv.layer.name == "conv" and conv.batch_norm is model.get_layer("bn") and head.batch_norm is None
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 2)).astype("float32")
    bn_output = keras.Model(model.input, model.get_layer("bn").output)
    for level in range(len(LEVELS)):
        layer = conv.layer
        masked = keras.ops.convert_to_numpy(keras.ops.conv(
            x, layer.kernel.numpy() * layer.level_masks()[level], padding="same"))
        a, c = conv.level_affine(level)
        with ks.level(model, level):
            expected = bn_output(x, training=False)
        np.testing.assert_allclose(a * masked + c, expected, rtol=1e-4, atol=1e-4)


def test_a_per_level_batch_norm_that_cannot_fold_is_named():
    inputs = keras.Input((5,))
    x = keras.layers.Dense(4, name="fc")(inputs)
    x = keras.layers.ReLU()(x)
    x = keras.layers.BatchNormalization(name="loose_bn")(x)
    model = ks.nest(keras.Model(inputs, keras.layers.Dense(2, name="head")(x)), LEVELS)
    fold_plan(model)  # identical rows: a plain BatchNorm will do
    _randomise_rows(model)
    with pytest.raises(ValueError, match="layer 'loose_bn': a per-level BatchNorm must directly follow"):
        fold_plan(model)
