"""Executes every notebook on a small data slice (KS_NOTEBOOK_FAST=1)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name == "01_quickstart.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("KS_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(
        o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    assert "Traceback" not in outputs
    if path.name == "02_reds_knapsack.ipynb":
        assert "value(milp)" in outputs and "KB for all four levels" in outputs
    if path.name == "03_deploy.ipynb":
        assert "int8 accuracy" in outputs and "separate .tflite files" in outputs
        plots = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        assert plots >= 3  # storage, accuracy against MACs, accuracy against instructions
    if path.name == "01_quickstart.ipynb":
        assert "level  target  sparsity" in outputs
        images = [o for cell in nb.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        assert images, "the accuracy-vs-MACs plot was not drawn"
