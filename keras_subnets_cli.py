# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The ``keras-subnets`` console script.

It lives outside the ``keras_subnets`` package on purpose: importing the
package imports Keras and with it TensorFlow (seconds, and C++ log lines),
which ``keras-subnets --help`` must not need. This launcher loads
``keras_subnets/cli.py``, which imports only absl and the standard library at
module level, by its path, without running the package's ``__init__``; each
command imports what it needs when it runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load_cli() -> ModuleType:
    loaded = sys.modules.get("keras_subnets.cli")
    if loaded is not None:
        return loaded
    # find_spec of a top-level name locates the package without importing it.
    spec = importlib.util.find_spec("keras_subnets")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("keras-subnets: the keras_subnets package is not installed (pip install keras-subnets)")
    path = Path(next(iter(spec.submodule_search_locations))) / "cli.py"
    cli_spec = importlib.util.spec_from_file_location("keras_subnets.cli", path)
    module = importlib.util.module_from_spec(cli_spec)
    sys.modules["keras_subnets.cli"] = module
    cli_spec.loader.exec_module(module)
    return module


def run() -> None:
    """Console-script entry point: `keras_subnets.cli.run`, loaded lazily."""
    _load_cli().run()


if __name__ == "__main__":
    run()
