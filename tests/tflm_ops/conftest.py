# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from keras_subnets.firmware import core_binding as kb


@pytest.fixture(scope="session", params=["plain_c", "dsp_emulated"])
def lib(request, tmp_path_factory):
    """libks_ops.so built from the current sources with the system gcc:
    once with the plain C loops, once with the Cortex-M DSP loops emulated in
    C (the loops the target runs, with the same results)."""
    build_dir = tmp_path_factory.mktemp(f"ks_ops_build_{request.param}")
    args = [
        f"KS_SINGLE_ROUNDING={os.environ.get('KS_SINGLE_ROUNDING', '0')}",
        f"KS_DSP_EMULATE={int(request.param == 'dsp_emulated')}",
    ]
    if os.environ.get("KS_SANITIZE"):
        # Run with LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
        args.append("HOST_CFLAGS=-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined")
    path = kb.build_library(build_dir, tuple(args))
    return kb.load_library(path)
