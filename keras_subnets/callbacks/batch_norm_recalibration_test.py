# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The callback leaves every level's BatchNorm statistics equal to the batch statistics computed in numpy."""

import keras
import numpy as np

import keras_subnets as ks
from keras_subnets.callbacks import RecalibrateBatchNorm

BATCH = 16


def _model():
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, name="fc")(inputs)
    x = keras.layers.BatchNormalization(name="bn", momentum=0.99)(x)
    base = keras.Model(inputs, keras.layers.Dense(3, name="head")(keras.layers.ReLU()(x)))
    model = ks.nest(base, [0.6, 0.0])
    model.compile("sgd", "mse")
    return model


def _expected(model, x):
    """Per level: the mean over batches of the BatchNorm input's batch mean and (biased) variance."""
    rows = []
    features = keras.Model(model.input, model.get_layer("bn").input)
    for level in range(2):
        with ks.level(model, level):
            f = np.asarray(features(x, training=False), np.float64)
        chunks = [f[i:i + BATCH] for i in range(0, len(f), BATCH)]
        rows.append((np.mean([c.mean(0) for c in chunks], 0), np.mean([c.var(0) for c in chunks], 0)))
    return rows


def _statistics(model):
    bn = model.get_layer("bn")
    return bn.moving_mean.numpy(), bn.moving_variance.numpy()


class _AtValidation(keras.callbacks.Callback):
    """Records the statistics and the numpy expectation when each validation pass begins."""

    def __init__(self, x):
        super().__init__()
        self.x, self.seen = x, []

    def on_test_begin(self, logs=None):
        self.seen.append((_statistics(self.model), _expected(self.model, self.x)))


def _assert_equal(statistics, expected):
    mean, variance = statistics
    for level, (m, v) in enumerate(expected):
        np.testing.assert_allclose(mean[level], m, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(variance[level], v, rtol=1e-4, atol=1e-5)


def test_statistics_are_exact_at_each_validation_and_after_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=2.0, size=(48, 6)).astype("float32")
    y = rng.normal(size=(48, 3)).astype("float32")
    model = _model()
    recorder = _AtValidation(x)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, validation_data=(x[:16], y[:16]),
              callbacks=[RecalibrateBatchNorm(x, batch_size=BATCH), recorder])
    assert len(recorder.seen) == 1
    for statistics, expected in recorder.seen:
        _assert_equal(statistics, expected)
    # Without validation, the end of fit recalibrates.
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[RecalibrateBatchNorm(x, batch_size=BATCH)])
    _assert_equal(_statistics(model), _expected(model, x))


def test_an_evaluate_outside_fit_leaves_the_statistics_alone():
    x = np.random.default_rng(1).normal(size=(32, 6)).astype("float32")
    model = _model()
    callback = RecalibrateBatchNorm(x, batch_size=BATCH)
    callback.set_model(model)
    before = _statistics(model)
    model.evaluate(x, np.zeros((32, 3), "float32"), verbose=0, callbacks=[callback])
    for a, b in zip(before, _statistics(model), strict=True):
        np.testing.assert_array_equal(a, b)
