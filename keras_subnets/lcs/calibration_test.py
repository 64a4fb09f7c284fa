import keras
import numpy as np
import pytest

from keras_subnets import lcs
from keras_subnets.lcs.testing import tiny_cnn, tiny_data


def test_every_band_gets_the_statistics_of_its_alphas():
    inputs = keras.Input((6,))
    x = lcs.LcsBatchNormalization(bins=3, name="first")(inputs)
    x = lcs.LcsDense(4, name="fc")(x)
    outputs = lcs.LcsBatchNormalization(bins=3, name="after")(x)
    model = lcs.SubspaceModel(inputs, outputs)
    data = np.random.default_rng(0).normal(2.0, 3.0, size=(64, 6)).astype("float32")
    lcs.recalibrate_batch_norm(model, data, batch_size=16)
    first = model.get_layer("first").moving_mean.numpy()
    np.testing.assert_allclose(first, np.broadcast_to(data.mean(0), first.shape), rtol=1e-4)
    after = model.get_layer("after").moving_mean.numpy()
    assert not np.allclose(after[0], after[2])  # sparser bands see other activations
    assert model.get_layer("first").momentum == 0.99  # restored


def test_bad_inputs():
    model = lcs.subspace(tiny_cnn(), kind="structured", norm="batch_per_level", alpha_bins=2)
    x, _ = tiny_data(4)
    with pytest.raises(ValueError, match="at least one"):
        lcs.recalibrate_batch_norm(model, x[:0])
    inputs = keras.Input((6,))
    x = lcs.LcsBatchNormalization(bins=3)(inputs)
    mixed = lcs.SubspaceModel(inputs, lcs.LcsBatchNormalization(bins=2)(lcs.LcsDense(4)(x)))
    with pytest.raises(ValueError, match="different bins"):
        lcs.recalibrate_batch_norm(mixed, np.zeros((4, 6), "float32"))
