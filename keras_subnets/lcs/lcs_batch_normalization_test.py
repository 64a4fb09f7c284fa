import numpy as np
import pytest

from keras_subnets.lcs import LcsBatchNormalization, alpha_override
from keras_subnets.lcs.lcs_batch_normalization import alpha_bin


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
