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
    model = ks.nest(ks.zoo.quickstart_cnn(input_shape=(8, 8, 2), classes=3), LEVELS)
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
    plan = fold_plan(model)
    assert [(f.layer.name, f.batch_norm and f.batch_norm.name) for f in plan] == [
        ("stem", "stem_bn"), ("dw1", "dw1_bn"), ("pw1", "pw1_bn"), ("dw2", "dw2_bn"), ("pw2", "pw2_bn"),
        ("classifier", None)]
    stem = plan[0]
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 2)).astype("float32")
    bn_output = keras.Model(model.input, model.get_layer("stem_bn").output)
    for level in range(len(LEVELS)):
        kernel = stem.layer.kernel.numpy() * stem.layer.level_masks()[level]
        masked = keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, strides=2, padding="same"))
        a, c = stem.level_affine(level)
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
