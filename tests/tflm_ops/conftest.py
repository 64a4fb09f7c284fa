import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ks_ops_binding as kb  # noqa: E402


@pytest.fixture(scope="session")
def lib(tmp_path_factory):
    """libks_ops.so built from the current sources with the system gcc."""
    build_dir = tmp_path_factory.mktemp("ks_ops_build")
    args = [f"KS_SINGLE_ROUNDING={os.environ.get('KS_SINGLE_ROUNDING', '0')}"]
    if os.environ.get("KS_SANITIZE"):
        # Run with LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
        args.append("HOST_CFLAGS=-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined")
    path = kb.build_library(build_dir, tuple(args))
    return kb.load_library(path)
