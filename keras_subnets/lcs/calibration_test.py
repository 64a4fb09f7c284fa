# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

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


def test_exact_alpha_sets_only_its_band_to_the_statistics_at_that_alpha():
    inputs = keras.Input((6,))
    x = lcs.LcsDense(8, name="fc", variant="point", compression="unstructured")(inputs)
    outputs = lcs.LcsBatchNormalization(bins=2, name="bn")(x)
    model = lcs.SubspaceModel(inputs, outputs)
    data = np.random.default_rng(1).normal(1.0, 2.0, size=(48, 6)).astype("float32")
    model(data)
    before = model.get_layer("bn").moving_mean.numpy().copy()
    lcs.recalibrate_batch_norm(model, data, batch_size=16, alpha=0.3)
    after = model.get_layer("bn").moving_mean.numpy()
    np.testing.assert_array_equal(after[1], before[1])  # the other band is untouched
    with lcs.alpha(model, 0.3):
        kernel, bias = model.get_layer("fc").effective_weights()
    expected = (data @ keras.ops.convert_to_numpy(kernel) + keras.ops.convert_to_numpy(bias)).mean(0)
    np.testing.assert_allclose(after[0], expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        lcs.recalibrate_batch_norm(model, data, alpha=1.5)


def test_bad_inputs():
    model = lcs.subspace(tiny_cnn(), kind="structured", norm="batch_per_level", alpha_bins=2)
    x, _ = tiny_data(4)
    with pytest.raises(ValueError, match="at least one"):
        lcs.recalibrate_batch_norm(model, x[:0])
    inputs = keras.Input((6,))
    x = lcs.LcsBatchNormalization(bins=3)(inputs)
    mixed = lcs.SubspaceModel(inputs, lcs.LcsBatchNormalization(bins=2)(lcs.LcsDense(4)(x)))
    with pytest.raises(ValueError, match="different α bands"):
        lcs.recalibrate_batch_norm(mixed, np.zeros((4, 6), "float32"))


def test_geometric_bands_are_estimated_over_their_own_alpha_range():
    edges = lcs.band_edges(3, "geometric", 0.05)
    inputs = keras.Input((6,))
    x = lcs.LcsDense(8, name="fc", variant="point", compression="unstructured")(inputs)
    outputs = lcs.LcsBatchNormalization(bins=3, edges=edges, name="bn")(x)
    model = lcs.SubspaceModel(inputs, outputs)
    data = np.random.default_rng(2).normal(1.0, 2.0, size=(64, 6)).astype("float32")
    lcs.recalibrate_batch_norm(model, data, batch_size=16)
    mean = model.get_layer("bn").moving_mean.numpy()
    full = [0.0, *edges, 1.0]
    for band in range(3):
        low, high = full[band], full[band + 1]
        expected = []
        for t in range(4):
            position = (t + 0.5) / 4 if band < 2 else t / 3
            with lcs.alpha(model, low + position * (high - low)):
                kernel, bias = model.get_layer("fc").effective_weights()
            batch = data[16 * t:16 * (t + 1)]
            expected.append((batch @ keras.ops.convert_to_numpy(kernel) + keras.ops.convert_to_numpy(bias)).mean(0))
        np.testing.assert_allclose(mean[band], np.mean(expected, axis=0), rtol=1e-4, atol=1e-5)


def test_one_argument_convention_for_nested_and_lcs_models():
    # keras_subnets.recalibrate_batch_norm takes an LCS subspace too: its
    # levels= are the bands, alpha= the exact α; the nested model refuses alpha=.
    import keras_subnets as ks

    inputs = keras.Input((6,))
    outputs = lcs.LcsBatchNormalization(bins=3, name="bn")(lcs.LcsDense(4, name="fc")(inputs))
    model = lcs.SubspaceModel(inputs, outputs)
    data = np.random.default_rng(2).normal(1.0, 2.0, size=(32, 6)).astype("float32")
    model(data)
    before = model.get_layer("bn").moving_mean.numpy().copy()
    ks.recalibrate_batch_norm(model, data, batch_size=16, levels=[1])
    after = model.get_layer("bn").moving_mean.numpy().copy()
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    lcs.recalibrate_batch_norm(twin, data, batch_size=16, bands=[1])
    np.testing.assert_array_equal(twin.get_layer("bn").moving_mean.numpy(), after)
    assert not np.allclose(after[1], before[1])
    with pytest.raises(ValueError, match="out of range"):
        ks.recalibrate_batch_norm(model, data, levels=[3])
    with pytest.raises(ValueError, match="not both"):
        ks.recalibrate_batch_norm(model, data, levels=[1], alpha=0.5)
    ks.recalibrate_batch_norm(model, data, batch_size=16, alpha=0.5)
    lcs.recalibrate_batch_norm(twin, data, batch_size=16, alpha=0.5)
    np.testing.assert_array_equal(twin.get_layer("bn").moving_mean.numpy(), model.get_layer("bn").moving_mean.numpy())

    nested = ks.nest(keras.Sequential([keras.Input((6,)), keras.layers.Dense(4), keras.layers.BatchNormalization()]),
                     levels=[0.5, 0.0])
    with pytest.raises(ValueError, match="alpha= applies to LCS"):
        ks.recalibrate_batch_norm(nested, data, alpha=0.5)
