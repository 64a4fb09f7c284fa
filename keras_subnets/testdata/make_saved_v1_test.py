# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The generator of the committed v1 files still writes them: run into a temporary folder, its
outputs equal the committed ``saved_v1_outputs.npz`` (the inputs bit for bit), and its files load
as `keras_subnets.saving_compat_test` expects and compute those outputs."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import lcs

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("saved_v1")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-m", "keras_subnets.testdata.make_saved_v1", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_generator_reproduces_the_committed_outputs(generated):
    assert sorted(p.name for p in generated.iterdir()) == ["nested_v1.keras", "saved_v1_outputs.npz",
                                                           "subspace_v1.keras"]
    committed, fresh = dict(np.load(HERE / "saved_v1_outputs.npz")), dict(np.load(generated / "saved_v1_outputs.npz"))
    assert sorted(fresh) == sorted(committed)
    for key in ("x", "calibration"):
        np.testing.assert_array_equal(fresh[key], committed[key])
    for key in committed.keys() - {"x", "calibration"}:
        np.testing.assert_allclose(fresh[key], committed[key], rtol=1e-5, atol=1e-5, err_msg=key)


def test_the_generated_files_load_and_compute_the_committed_outputs(generated):
    committed = dict(np.load(HERE / "saved_v1_outputs.npz"))
    nested = keras.models.load_model(generated / "nested_v1.keras")
    assert isinstance(nested, ks.SubnetModel)
    for k in range(3):
        ks.set_level(nested, k)
        np.testing.assert_allclose(np.asarray(nested(committed["x"])), committed[f"level_{k}"], rtol=1e-5, atol=1e-5)
    subspace = keras.models.load_model(generated / "subspace_v1.keras")
    assert isinstance(subspace, lcs.SubspaceModel)
    for a in (0.2, 0.5, 1.0):
        lcs.set_alpha(subspace, a)
        np.testing.assert_allclose(np.asarray(subspace(committed["x"])), committed[f"alpha_{a}"], rtol=1e-5,
                                   atol=1e-5)
