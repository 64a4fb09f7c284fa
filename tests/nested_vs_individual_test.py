# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Smoke run of benchmarks/nested_vs_individual.py's zoo path (ResNet-8) on a data slice."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_zoo_benchmark_runs_and_its_rows_agree():
    # ~4 min on 2 shared cores: every model of the protocol is built, trained one epoch on 128 images (4 steps,
    # so the masks reach their levels) and evaluated on 200; the REDS levels trained alone must be exactly the
    # nested levels' size.
    from keras_subnets.datasets import fashion_mnist

    try:
        fashion_mnist.load_data()
    except fashion_mnist.DatasetError as err:
        pytest.skip(f"Fashion-MNIST not installed: {err}")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.nested_vs_individual", "--model", "resnet8", "--train_samples", "128",
         "--test_samples", "200", "--batch_size", "32", "--pretrain_epochs", "1", "--epochs", "1", "--ramp_epochs", "1",
         "--importance_batches", "1", "--recalibration_batches", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in done.stdout.splitlines()
            if re.match(r"\| (unstructured|REDS structured) \|", line)]
    assert [r[0] for r in rows] == ["unstructured"] * 4 + ["REDS structured"] * 4
    for row in rows:
        assert 0.0 <= float(row[3]) <= 100.0 and 0.0 <= float(row[4]) <= 100.0
    macs = {kind: [int(r[6].replace(",", "")) for r in rows if r[0] == kind]
            for kind in ("unstructured", "REDS structured")}
    assert macs["unstructured"] == sorted(macs["unstructured"]) and len(set(macs["unstructured"])) == 4
    assert macs["REDS structured"] == sorted(macs["REDS structured"]) and len(set(macs["REDS structured"])) == 4
    for row in rows:
        if row[0] == "REDS structured":
            assert row[6] == row[8], f"the level trained alone differs from the nested level: {row}"
    # The full level of both kinds is the same dense model.
    assert rows[3][4] == rows[7][4] and rows[3][8] == rows[7][8]
