# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Each row of LevelBatchNormalization against a plain Keras BatchNormalization holding that row."""

import keras
import numpy as np
import pytest

from keras_subnets.layers.level_batch_normalization import LevelBatchNormalization

ROWS = 3


class _RowBatchNorm(LevelBatchNormalization):
    """The base with a row chosen from Python (the subclasses choose it from a level or an α)."""

    row = 0

    @property
    def num_levels(self) -> int:
        return ROWS

    def _current_level(self):
        return self.row


def _pair(axis, shape, shared_affine=False, momentum=0.9):
    rng = np.random.default_rng(0)
    layer = _RowBatchNorm(axis=axis, momentum=momentum, shared_affine=shared_affine)
    layer.build(shape)
    channels = shape[axis]
    layer.moving_mean.assign(rng.normal(size=(ROWS, channels)))
    layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=(ROWS, channels)))
    affine = (channels,) if shared_affine else (ROWS, channels)
    layer.gamma.assign(rng.uniform(0.5, 1.5, size=affine))
    layer.beta.assign(rng.normal(size=affine))
    return layer


def _keras_row(layer, row, axis, shape, momentum=0.9):
    """A Keras BatchNormalization holding ``layer``'s row ``row``."""
    plain = keras.layers.BatchNormalization(axis=axis, momentum=momentum, epsilon=layer.epsilon)
    plain.build(shape)
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    if not layer.shared_affine:
        gamma, beta = gamma[row], beta[row]
    plain.set_weights([gamma, beta, layer.moving_mean.numpy()[row], layer.moving_variance.numpy()[row]])
    return plain


@pytest.mark.parametrize("axis, shape", [(-1, (4, 5, 5, 6)), (1, (4, 6, 5, 5)), (-1, (8, 3))])
@pytest.mark.parametrize("shared_affine", [False, True])
def test_inference_reads_the_current_row(axis, shape, shared_affine):
    layer = _pair(axis, shape, shared_affine)
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    for row in range(ROWS):
        layer.row = row
        expected = _keras_row(layer, row, axis, shape)(x, training=False)
        np.testing.assert_allclose(layer(x, training=False), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis, shape", [(-1, (4, 5, 5, 6)), (1, (4, 6, 5, 5))])
def test_a_training_pass_normalises_by_the_batch_and_moves_only_the_current_row(axis, shape):
    layer = _pair(axis, shape, momentum=0.8)
    x = np.random.default_rng(2).normal(loc=3.0, size=shape).astype("float32")
    layer.row = 1
    plain = _keras_row(layer, 1, axis, shape, momentum=0.8)
    before_mean, before_var = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    np.testing.assert_allclose(layer(x, training=True), plain(x, training=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy()[1], plain.moving_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy()[1], plain.moving_variance.numpy(), rtol=1e-5, atol=1e-6)
    for other in (0, 2):
        np.testing.assert_array_equal(layer.moving_mean.numpy()[other], before_mean[other])
        np.testing.assert_array_equal(layer.moving_variance.numpy()[other], before_var[other])


def test_load_dense_fills_every_row_and_bad_options_are_refused():
    layer = _pair(-1, (2, 4))
    layer.load_dense(np.full(4, 2.0), np.full(4, -1.0), np.arange(4.0), np.ones(4))
    np.testing.assert_array_equal(layer.gamma.numpy(), np.full((ROWS, 4), 2.0))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.tile(np.arange(4.0), (ROWS, 1)))
    with pytest.raises(ValueError, match="renorm=True is not supported"):
        _RowBatchNorm(renorm=True)
    with pytest.raises(ValueError, match="synchronized=True is refused"):
        _RowBatchNorm(synchronized=True)
