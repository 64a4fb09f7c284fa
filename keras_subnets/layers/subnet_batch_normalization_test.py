# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.layers import SubnetBatchNormalization
from keras_subnets.levels import level_override


def _layer(**kwargs):
    layer = SubnetBatchNormalization(levels=[0.5, 0.0], momentum=0.5, **kwargs)
    layer.build((None, 4, 4, 3))
    return layer


def test_training_at_a_level_moves_only_that_levels_statistics():
    layer = _layer()
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(8, 4, 4, 3)).astype("float32")
    with level_override(1):
        layer(x, training=True)
    mean = keras.ops.convert_to_numpy(layer.moving_mean)
    var = keras.ops.convert_to_numpy(layer.moving_variance)
    np.testing.assert_array_equal(mean[0], 0.0)
    np.testing.assert_array_equal(var[0], 1.0)
    np.testing.assert_allclose(mean[1], 0.5 * x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(var[1], 0.5 + 0.5 * x.var(axis=(0, 1, 2)), rtol=1e-4)


@pytest.mark.parametrize("shared_affine", [False, True])
def test_inference_at_each_level_equals_keras_batch_norm_with_that_levels_state(shared_affine):
    layer = _layer(shared_affine=shared_affine)
    rng = np.random.default_rng(1)
    for var in (layer.gamma, layer.beta, layer.moving_mean):
        var.assign(rng.normal(size=var.shape).astype("float32"))
    layer.moving_variance.assign(rng.uniform(0.5, 2, size=(2, 3)).astype("float32"))
    x = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    for k in range(2):
        plain = keras.layers.BatchNormalization()
        plain.build(x.shape)

        def row(v, k=k):
            value = keras.ops.convert_to_numpy(v)
            return value if shared_affine else value[k]

        plain.set_weights([row(layer.gamma), row(layer.beta),
                           keras.ops.convert_to_numpy(layer.moving_mean)[k],
                           keras.ops.convert_to_numpy(layer.moving_variance)[k]])
        with level_override(k):
            got = keras.ops.convert_to_numpy(layer(x, training=False))
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5)


def test_load_dense_copies_into_every_level_and_config_round_trips():
    layer = _layer()
    layer.load_dense(np.full(3, 2.0), np.full(3, -1.0), np.full(3, 0.5), np.full(3, 4.0))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.gamma), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.moving_variance), np.full((2, 3), 4.0))
    testing.assert_config_round_trip(layer, levels=[0.5, 0.0])
    testing.assert_config_round_trip(_layer(shared_affine=True), shared_affine=True)
    with pytest.raises(ValueError, match="renorm"):
        SubnetBatchNormalization(levels=[0.0], renorm=True)
    with pytest.raises(ValueError, match="synchronized=True is refused.*under MirroredStrategy the multi-level"):
        SubnetBatchNormalization(levels=[0.0], synchronized=True)
