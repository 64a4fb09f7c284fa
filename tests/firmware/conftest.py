# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Fixtures for the real-TFLM firmware tests: the TFLM tree and test images.

Without a TFLM tree ($TFLM_ROOT, else ../shared/tflm/tflite-micro with its
downloads), the cross toolchain or QEMU, the tests that need them skip and say why.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from keras_subnets.firmware import build  # noqa: E402


@pytest.fixture(scope="session")
def tflm_root():
    try:
        return build.find_tflm_root()
    except build.TflmNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def images():
    """Two random test images in [0, 1]."""
    return np.random.default_rng(1).random((2, 28, 28, 1)).astype(np.float32)
