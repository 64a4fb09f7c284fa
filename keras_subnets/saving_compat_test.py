# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Files saved by an earlier version load and compute what they computed then.

``testdata/`` holds a nested model and an LCS subspace (per-band BatchNorm)
saved at ae5e5a1, before the nested and LCS layers, BatchNorms and models
shared one base, with their outputs at every level / several α
(`keras_subnets.testdata.make_saved_v1`).
"""

import pathlib

import keras
import numpy as np

import keras_subnets as ks
from keras_subnets import lcs

DATA = pathlib.Path(__file__).parent / "testdata"


def _stored():
    return dict(np.load(DATA / "saved_v1_outputs.npz"))


def _tables(model):
    return {f"{layer.name}/{v.name}": keras.ops.convert_to_numpy(v).copy()
            for layer in model.layers for v in layer.weights if "moving" in v.name}


def test_nested_file_loads_with_the_same_classes_and_outputs():
    stored = _stored()
    model = keras.models.load_model(DATA / "nested_v1.keras")
    assert isinstance(model, ks.SubnetModel)
    assert {type(la).__name__ for la in model.layers} >= {
        "SubnetConv2D", "SubnetDepthwiseConv2D", "SubnetConv1D", "SubnetDense", "SubnetBatchNormalization"}
    for k in range(3):
        ks.set_level(model, k)
        np.testing.assert_allclose(np.asarray(model(stored["x"])), stored[f"level_{k}"], rtol=1e-5, atol=1e-5)


def test_subspace_file_loads_with_the_same_classes_and_outputs():
    stored = _stored()
    model = keras.models.load_model(DATA / "subspace_v1.keras")
    assert isinstance(model, lcs.SubspaceModel)
    assert "LcsBatchNormalization" in {type(la).__name__ for la in model.layers}
    for a in (0.2, 0.5, 1.0):
        lcs.set_alpha(model, a)
        np.testing.assert_allclose(np.asarray(model(stored["x"])), stored[f"alpha_{a}"], rtol=1e-5, atol=1e-5)


def test_recalibration_reproduces_the_statistics_saved_by_the_earlier_loop():
    # The files were recalibrated on `calibration` (8 per batch) by the two
    # loops that preceded `calibration.estimate_rows`; a running mean from
    # scratch does not depend on the statistics it replaces.
    stored = _stored()
    for name, recalibrate in (("nested_v1.keras", ks.recalibrate_batch_norm),
                              ("subspace_v1.keras", lcs.recalibrate_batch_norm)):
        model = keras.models.load_model(DATA / name)
        before = _tables(model)
        for table in before.values():
            assert table.shape[0] == 3 and not np.allclose(table[0], table[-1])
        recalibrate(model, stored["calibration"], batch_size=8)
        after = _tables(model)
        for key, table in before.items():
            np.testing.assert_allclose(after[key], table, rtol=1e-5, atol=1e-6, err_msg=f"{name} {key}")
