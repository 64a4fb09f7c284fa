# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import lcs
from keras_subnets.lcs.testing import tiny_cnn, tiny_data


def test_layers_are_swapped_with_weights_kept():
    base = tiny_cnn(flatten=True)
    model = lcs.subspace(base, kind="structured", norm="group", groups=4)
    kinds = {la.name: type(la).__name__ for la in model.layers}
    assert kinds["stem"] == "LcsConv2D" and kinds["dw"] == "LcsDepthwiseConv2D"
    assert kinds["classifier"] == "LcsDense" and kinds["pw_bn"] == "GroupNormalization"
    assert model.get_layer("stem_bn").groups == 4 and model.get_layer("pw_bn").groups == 4
    np.testing.assert_array_equal(model.get_layer("pw").kernel.numpy(), base.get_layer("pw").kernel.numpy())
    flags = {la.name: (la.structured_inputs, la.structured_outputs, la.input_tile) for la in model.lcs_layers()}
    # The stem reads the image, the classifier keeps its classes and reads a Flatten of 2x2 positions.
    assert flags == {"stem": (False, True, 1), "dw": (True, True, 1), "pw": (True, True, 1),
                     "classifier": (True, False, 4)}
    inst = lcs.subspace(base, kind="bits", norm="instance")
    assert inst.get_layer("dw_bn").groups == 8  # one group per channel


def test_set_alpha_and_context_manager():
    model = lcs.subspace(tiny_cnn(), kind="unstructured", norm="batch_per_level")
    x, _ = tiny_data(4)
    dense = model.predict(x, verbose=0)
    with lcs.alpha(model, 0.1):
        assert lcs.get_alpha(model) == pytest.approx(0.1)
        sparse = model.predict(x, verbose=0)
    assert lcs.get_alpha(model) == 1.0
    assert not np.allclose(dense, sparse)
    np.testing.assert_allclose(model.predict(x, verbose=0), dense, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lcs.set_alpha(model, 1.2)
    with pytest.raises(ValueError, match="no LCS layer"):
        lcs.set_alpha(tiny_cnn(), 0.5)


def test_save_and_load_round_trip(tmp_path):
    model = lcs.subspace(tiny_cnn(), kind="unstructured", variant="line", norm="batch_per_level")
    lcs.set_alpha(model, 0.4)
    x, _ = tiny_data(4)
    path = tmp_path / "lcs.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, lcs.SubspaceModel) and lcs.get_alpha(loaded) == pytest.approx(0.4)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_bad_inputs_are_named():
    base = tiny_cnn()
    with pytest.raises(ValueError, match="kind"):
        lcs.subspace(base, kind="pruned")
    with pytest.raises(ValueError, match="variant"):
        lcs.subspace(base, variant="curve")
    with pytest.raises(ValueError, match="norm"):
        lcs.subspace(base, norm="layer")
    with pytest.raises(ValueError, match="max_bits"):
        lcs.subspace(base, kind="bits", max_bits=9)
    inputs = keras.Input((6,))
    x = keras.layers.Dense(4, name="fc")(inputs)
    x = keras.layers.LayerNormalization(name="odd_norm")(x)
    with pytest.raises(ValueError, match="'odd_norm'.*LayerNormalization"):
        lcs.subspace(keras.Model(inputs, keras.layers.Dense(2)(x)))
    x = keras.layers.Embedding(5, 3, name="table")(keras.Input((2,)))
    with pytest.raises(ValueError, match="'table'"):
        lcs.subspace(keras.Model(x._keras_history.operation.input, x))
    with pytest.raises(ValueError, match="already an LCS layer"):
        lcs.subspace(lcs.subspace(base))


def test_geometric_alpha_bands_reach_every_batch_norm_and_structured_is_refused():
    model = lcs.subspace(tiny_cnn(), kind="unstructured", norm="batch_per_level", alpha_bins=4,
                         alpha_bands="geometric", alpha_min=0.04)
    bns = [la for la in model.layers if isinstance(la, lcs.LcsBatchNormalization)]
    assert bns and all(bn.edges == pytest.approx(lcs.band_edges(4, "geometric", 0.04)) for bn in bns)
    with pytest.raises(ValueError, match="geometric"):
        lcs.subspace(tiny_cnn(), kind="structured", norm="batch_per_level", alpha_bands="geometric")
    with pytest.raises(ValueError, match="alpha_bins"):
        lcs.subspace(tiny_cnn(), norm="batch_per_level", alpha_bins=0)
