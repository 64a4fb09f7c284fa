# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np

import keras_subnets as ks


def _model():
    inputs = keras.Input((5,))
    x = ks.SubnetDense(4, levels=[0.5, 0.0], use_bias=False)(inputs)
    outputs = ks.SubnetBatchNormalization(levels=[0.5, 0.0])(x)
    return ks.SubnetModel(inputs, outputs)


def test_statistics_become_exact_averages_of_batch_statistics_per_level():
    model = _model()
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(512, 5)).astype("float32")
    ks.recalibrate_batch_norm(model, x, batch_size=128)
    dense_layer, bn = model.layers[1], model.layers[2]
    kernel = keras.ops.convert_to_numpy(dense_layer.kernel)
    for k in range(2):
        h = x @ (kernel * dense_layer.level_masks()[k])
        batches = h.reshape(4, 128, 4)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean)[k], h.mean(axis=0), rtol=1e-4)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance)[k],
                                   batches.var(axis=1).mean(axis=0), rtol=1e-4)
    assert bn.momentum == 0.99  # restored


def test_callback_recalibrates_before_validation_and_at_the_end():
    model = _model()
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).normal(5.0, 2.0, size=(256, 5)).astype("float32")
    y = np.zeros((256, 4), "float32")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, validation_data=(x, y),
              callbacks=[ks.RecalibrateBatchNorm(x, batch_size=256)])
    bn, dense_layer = model.layers[2], model.layers[1]
    h = x @ (keras.ops.convert_to_numpy(dense_layer.kernel) * dense_layer.level_masks()[1])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean)[1], h.mean(axis=0), rtol=1e-4)
