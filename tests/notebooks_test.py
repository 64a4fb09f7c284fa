# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The stored notebooks: not stale, executed with outputs, and still running.

Stored notebooks must equal what their generators (``notebooks/make_*.py``)
write, with outputs (``python notebooks/_builder.py [--fast]`` makes them);
each is also executed again on a small data slice (KS_NOTEBOOK_FAST=1) and
must produce the same kinds of output in the same cells (numbers may differ).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
sys.path.insert(0, str(NOTEBOOK_DIR))
import _builder  # noqa: E402

GENERATORS = _builder.generators()
IDS = [_builder.notebook_path(g).name for g in GENERATORS]


def _outputs_text(nb) -> str:
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", []))


def _kinds(nb) -> list[set]:
    """Per code cell: which kinds of output it showed (stream, image, table...)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kinds = set()
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                kinds.add(f"stream:{output.name}")
            else:
                kinds.update(f"{output.output_type}:{mime}" for mime in output.get("data", {}))
                if output.output_type == "error":
                    kinds.add("error")
        found.append(kinds - {"stream:stderr"})  # warnings come and go
    return found


def _check_content(name: str, nb) -> None:
    outputs = _outputs_text(nb)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    if name == "01_quickstart.ipynb":
        assert "level  target  sparsity" in outputs
        assert images >= 1, "the accuracy-vs-MACs plot was not drawn"
    if name == "02_reds_knapsack.ipynb":
        assert "value(milp)" in outputs and "KB for all four levels" in outputs
    if name == "03_deploy.ipynb":
        assert "int8 accuracy" in outputs and "separate .tflite files" in outputs
        assert images >= 3  # storage, accuracy against MACs, accuracy against instructions


def test_there_are_notebooks():
    assert "01_quickstart.ipynb" in IDS and len(IDS) == len(list(NOTEBOOK_DIR.glob("*.ipynb")))


@pytest.mark.parametrize("generator", GENERATORS, ids=IDS)
def test_stored_notebook_is_its_generators_output_with_outputs(generator):
    path = _builder.notebook_path(generator)
    stored = nbformat.read(str(path), as_version=4)
    mode = stored.metadata.get("keras_subnets", {}).get("outputs")
    assert mode in ("fast", "full"), f"{path.name} was not stored executed: run python notebooks/_builder.py"
    expected = _builder.build(_builder.load_cells(generator), fast=mode == "fast")
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in expected.cells], (
        f"{path.name} is stale: regenerate it with python notebooks/_builder.py")
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{path.name}: a code cell was never executed"
    assert not any("error" in kinds for kinds in _kinds(stored))
    _check_content(path.name, stored)
    # Nothing of the machine that ran it: no directory above the repository, no temporary directory.
    stored_text = path.read_text(encoding="utf-8")
    for machine_path in (str(NOTEBOOK_DIR.parents[1]) + "/", "/tmp/", "/root/", "/home/"):
        assert machine_path not in stored_text, f"{path.name} names {machine_path}: regenerate it"


def _installed_package_is_this_tree() -> None:
    """The notebooks run in a Jupyter kernel, a new process that imports the installed keras_subnets: in a
    second checkout that is the other checkout's code, and the test would pass or fail on it."""
    origin = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(u.find_spec('keras_subnets')"
                             ".origin)"], capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout.strip()
    root = NOTEBOOK_DIR.parent
    if not origin or not Path(origin).resolve().is_relative_to(root):
        pytest.fail(f"the notebooks' kernel imports keras_subnets from {origin or 'nowhere'}, not from {root}: "
                    f"install this tree (pip install -e {root}) to test its notebooks")


@pytest.mark.parametrize("generator", GENERATORS, ids=IDS)
def test_notebook_runs_and_shows_what_is_stored(generator):
    _installed_package_is_this_tree()
    path = _builder.notebook_path(generator)
    stored = nbformat.read(str(path), as_version=4)
    fresh = _builder.build(_builder.load_cells(generator), fast=True)
    try:
        _builder.execute(fresh, fast=True, timeout=900)
    except CellExecutionError as error:
        # nbclient stops at the first failing cell; its message holds the
        # cell's source and the traceback.
        pytest.fail(f"{path.name}: a cell failed:\n{str(error)[-3000:]}")
    assert _kinds(fresh) == _kinds(stored), f"{path.name}: the outputs' kinds differ from the stored notebook's"
    _check_content(path.name, fresh)
