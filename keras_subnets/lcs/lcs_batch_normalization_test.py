# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import numpy as np
import pytest

from keras_subnets.lcs import LcsBatchNormalization, alpha_override
from keras_subnets.lcs.lcs_batch_normalization import alpha_bin, band_edges


def test_alpha_bands():
    assert [alpha_bin(a, 4) for a in (0.0, 0.24, 0.25, 0.74, 0.99, 1.0)] == [0, 0, 1, 2, 3, 3]
    assert [int(alpha_bin(np.float32(a) * np.ones(()), 4)) for a in (0.0, 0.5, 1.0)] == [0, 2, 3]


def test_training_moves_only_the_band_of_alpha():
    layer = LcsBatchNormalization(bins=4, momentum=0.0)
    x = np.random.default_rng(0).normal(3.0, 1.0, size=(64, 5)).astype("float32")
    layer(x)
    with alpha_override(0.6):
        layer(x, training=True)
    mean = layer.moving_mean.numpy()
    np.testing.assert_allclose(mean[2], x.mean(0), rtol=1e-4)
    assert np.all(mean[[0, 1, 3]] == 0.0)
    with alpha_override(0.6):
        out = layer(x).numpy()
    assert abs(out.mean()) < 0.05
    layer.alpha.assign(0.1)  # band 0 still has the initial statistics
    np.testing.assert_allclose(layer(x).numpy(), x / np.sqrt(1.0 + layer.epsilon), rtol=1e-5)


def test_config_and_bad_bins():
    layer = LcsBatchNormalization(bins=3, name="bn")
    assert LcsBatchNormalization.from_config(layer.get_config()).bins == 3
    with pytest.raises(ValueError, match="bins"):
        LcsBatchNormalization(bins=0)


def test_geometric_bands_are_narrow_at_the_sparse_end():
    edges = band_edges(4, "geometric", 0.025)
    np.testing.assert_allclose(edges, [0.025 ** 0.75, 0.025 ** 0.5, 0.025 ** 0.25])
    assert [alpha_bin(a, edges) for a in (0.03, 0.1, 0.25, 0.5, 1.0)] == [0, 1, 2, 3, 3]
    traced = [int(alpha_bin(np.float32(a) * np.ones(()), edges)) for a in (0.03, 0.1, 0.25, 0.5, 1.0)]
    assert traced == [0, 1, 2, 3, 3]
    layer = LcsBatchNormalization(bins=4, edges=edges, momentum=0.0, name="bn")
    x = np.random.default_rng(0).normal(3.0, 1.0, size=(64, 5)).astype("float32")
    layer(x)
    with alpha_override(0.1):  # band 1 of the geometric bands, band 0 of the linear ones
        layer(x, training=True)
    mean = layer.moving_mean.numpy()
    np.testing.assert_allclose(mean[1], x.mean(0), rtol=1e-4)
    assert np.all(mean[[0, 2, 3]] == 0.0)
    restored = LcsBatchNormalization.from_config(layer.get_config())
    assert restored.edges == pytest.approx(edges)
    assert restored.band_range(1) == pytest.approx((edges[0], edges[1]))
    with pytest.raises(ValueError, match="edges"):
        LcsBatchNormalization(bins=3, edges=[0.5, 0.2], name="bn")
    with pytest.raises(ValueError, match="spacing"):
        band_edges(4, "log")
