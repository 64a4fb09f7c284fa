# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Tests of the package's public namespace, as the README uses it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_names_resolve_after_plain_import():
    # A fresh interpreter: an earlier test may already have imported the
    # sub-package, which would hide a missing attribute.
    code = (
        "import keras_subnets as ks\n"
        "assert callable(ks.convert.convert)\n"
        "assert callable(ks.convert.read_levels)\n"
        "assert callable(ks.convert.densify)\n"
        "assert 'convert' in ks.__all__\n"
        "assert callable(ks.reds.fit_subnets) and callable(ks.reds.plan)\n"
        "assert callable(ks.lcs.subspace) and callable(ks.lcs.export_levels)\n"
        "assert callable(ks.knapsack.solve)\n"
        "try:\n"
        "    ks.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "else:\n"
        "    raise SystemExit('missing attribute did not raise')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
