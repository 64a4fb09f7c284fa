# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Training gives the same numbers on the TensorFlow, JAX and PyTorch backends.

Nested levels and an LCS subspace: training logs, weights, evaluation,
``.keras`` round trips, exported levels and REDS's unit importance, each
compared with TensorFlow's.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def _run(backend: str, out: Path) -> dict:
    if importlib.util.find_spec(BACKEND_PACKAGES[backend]) is None:
        pytest.skip(f"the {backend} backend is not installed (pip install -e '.[dev]' installs it)")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-m", "keras_subnets.models.backend_check", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, f"{backend} run failed:\n{result.stderr[-3000:]}"
    found = dict(np.load(out))
    assert str(found.pop("backend")) == backend
    return found


@pytest.fixture(scope="module")
def tensorflow_run(tmp_path_factory):
    return _run("tensorflow", tmp_path_factory.mktemp("tf") / "run.npz")


def _check_one_backend(run: dict) -> None:
    weights = run["level_weights"]
    levels = [run[f"log_level_{k}_loss"] for k in range(len(weights))]
    # The logged loss is the weighted sum of the logged level losses: the
    # per-level trackers are part of the backend's metric state.
    np.testing.assert_allclose(run["log_loss"], sum(w * lk for w, lk in zip(weights, levels, strict=True)),
                               rtol=1e-5)
    for k in range(len(weights)):
        np.testing.assert_array_equal(run[f"reloaded_{k}"], run[f"predict_{k}"])
    assert not np.allclose(run["predict_0"], run[f"predict_{len(weights) - 1}"])
    for k in range(len(weights)):
        assert f"log_val_level_{k}_accuracy" in run
        assert f"log_level_{k}_accuracy" in run
    # One training step's per-level logs against numpy on each level's own
    # forward pass over the same batch.
    labels = run["step_labels"]
    for k in range(len(weights)):
        logits = run[f"step_logits_{k}"]
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        np.testing.assert_allclose(run[f"step_level_{k}_loss"], -log_p[np.arange(len(labels)), labels].mean(),
                                   rtol=1e-5)
        np.testing.assert_allclose(run[f"step_level_{k}_accuracy"], np.mean(logits.argmax(-1) == labels))
    _check_lcs(run)


def _check_lcs(run: dict) -> None:
    alphas = range(3)
    for k in alphas:
        np.testing.assert_allclose(run[f"lcs_reloaded_{k}"], run[f"lcs_predict_{k}"], rtol=1e-5, atol=1e-6)
        # Exported level k computes what the subspace computes at its α.
        np.testing.assert_allclose(run[f"lcs_export_{k}"], run[f"lcs_predict_{k}"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(run["lcs_predict_0"], run["lcs_predict_2"])
    # A fresh subspace of the base model computes the base model at α = 1.
    np.testing.assert_allclose(run["lcs_again_predict"], run["base_predict"], rtol=1e-5, atol=1e-6)
    assert "lcs_log_loss" in run and "lcs_evaluate_0_accuracy" in run


def test_tensorflow_run_is_self_consistent(tensorflow_run):
    _check_one_backend(tensorflow_run)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_matches_tensorflow(backend, tensorflow_run, tmp_path):
    run = _run(backend, tmp_path / "run.npz")
    _check_one_backend(run)
    assert run.keys() == tensorflow_run.keys()
    for key, expected in tensorflow_run.items():
        np.testing.assert_allclose(run[key], expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{backend}: {key} differs from TensorFlow")
