# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Models and checks shared by the firmware tests (imported by name: tests/firmware is on sys.path)."""

import shutil

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert import convert
from keras_subnets.firmware import build
from keras_subnets.testing import vary_batch_norm_per_level

LEVELS = [0.9, 0.75, 0.5, 0.0]
KINDS = ["unstructured", "row", "block", "structured"]


def require_target(target: str) -> None:
    """Skips (with the reason) when the target's compilers or QEMU are missing."""
    try:
        build.require_tools(build.get_target(target))
    except build.ToolchainMissingError as err:
        pytest.skip(str(err))
    if target != "x86" and shutil.which("qemu-system-arm") is None:
        pytest.skip("Cortex-M firmware runs need qemu-system-arm (apt-get install qemu-system-arm)")


def nested_file(which: str, kind: str, quantize: str = "int8") -> bytes:
    """A 4-level int8 file of the quickstart CNN or DS-CNN S (random weights, per-level BatchNorm
    statistics as after training, random calibration images)."""
    keras.utils.set_random_seed(0)
    base = ks.zoo.quickstart_cnn() if which == "quickstart" else ks.zoo.ds_cnn_s()
    model = ks.nest(base, LEVELS, kind=kind)
    vary_batch_norm_per_level(model)
    calib = np.random.default_rng(0).random((32, 28, 28, 1)).astype(np.float32)
    return convert(model, calib, quantize=quantize, num_calibration_samples=32, progress=False)


_FILES: dict = {}


def cached_file(which: str, kind: str, quantize: str = "int8") -> bytes:
    if (which, kind, quantize) not in _FILES:
        _FILES[which, kind, quantize] = nested_file(which, kind, quantize)
    return _FILES[which, kind, quantize]
