# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Builds the notebooks from their generators and stores them executed.

Each ``notebooks/make_*.py`` holds its notebook as a list of cells
(``("md" | "code", source)``) so the source stays reviewable Python. One
command regenerates every notebook and stores it with its outputs (tables,
plots), as a reader sees it on the repository page::

    python notebooks/_builder.py            # full data (slow)
    python notebooks/_builder.py --fast     # KS_NOTEBOOK_FAST=1: a data slice

``tests/notebooks_test.py`` checks the stored notebooks against the
generators (not stale) and runs them again on the slice.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
FAST_NOTE = ("*Outputs stored from a run with `KS_NOTEBOOK_FAST=1` (a small slice of the data, one or two "
             "epochs; `python notebooks/_builder.py --fast`), so the numbers are far below what the full run "
             "reaches. Run the notebook without that variable for the full data.*")
FULL_NOTE = "*Outputs stored from a full run (`python notebooks/_builder.py`).*"


def generators() -> list[Path]:
    """Every notebook generator, in notebook order."""
    return sorted(HERE.glob("make_*.py"))


def notebook_path(generator: Path) -> Path:
    return generator.with_name(generator.stem.removeprefix("make_") + ".ipynb")


def load_cells(generator: Path) -> list[tuple[str, str]]:
    """The ``CELLS`` list of one generator."""
    spec = importlib.util.spec_from_file_location(f"_notebook_{generator.stem}", generator)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CELLS


def build(cells: list[tuple[str, str]], fast: bool | None = None) -> nbformat.NotebookNode:
    """An unexecuted notebook; ``fast`` adds the note on how its outputs were made.

    Args:
        cells: ``("md" | "code", source)`` pairs.
        fast: ``True``/``False`` to say the stored outputs come from a fast
            or a full run (a note under the title); ``None`` for no note.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    made = [
        nbformat.v4.new_markdown_cell(src.strip()) if kind == "md" else nbformat.v4.new_code_cell(src.strip())
        for kind, src in cells
    ]
    if fast is not None:
        nb.metadata["keras_subnets"] = {"outputs": "fast" if fast else "full"}
        made.insert(1, nbformat.v4.new_markdown_cell(FAST_NOTE if fast else FULL_NOTE))
    nb.cells = made
    return nb


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    """Writes an unexecuted notebook (what running a generator alone does)."""
    nbformat.write(build(cells), str(path))


def execute(nb: nbformat.NotebookNode, fast: bool, timeout: int = 1800) -> nbformat.NotebookNode:
    """Runs every cell in a scratch directory; raises on the first failing cell."""
    from nbclient import NotebookClient

    saved = {name: os.environ.get(name) for name in ("KS_NOTEBOOK_FAST", "TF_CPP_MIN_LOG_LEVEL")}
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if fast:
        os.environ["KS_NOTEBOOK_FAST"] = "1"
    else:
        os.environ.pop("KS_NOTEBOOK_FAST", None)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": scratch}}).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return nb


# TensorFlow's log lines, C++ (absl / TSL format) and Python ("INFO:tensorflow:
# Assets written to: <a temporary directory>"): noise for a reader, and they differ between
# machines.
_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] .*"
                       r"|WARNING: All log messages before absl::InitializeLog\(\) is called.*"
                       r"|(?:INFO|WARNING):tensorflow:.*)$")
# A stored output must not name a directory of the machine that made it: paths
# next to the repository (e.g. ../shared/tflm) are written relative to it.
_OUTSIDE = str(HERE.parents[1]) + os.sep


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drops TensorFlow's log lines and writes paths beside the repository relative to it."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                lines = [line.replace(_OUTSIDE, "../") for line in output.text.splitlines(keepends=True)
                         if not _LOG_LINE.match(line.rstrip("\n"))]
                if not lines:
                    continue
                output.text = "".join(lines)
            elif "text/plain" in output.get("data", {}):
                output.data["text/plain"] = output.data["text/plain"].replace(_OUTSIDE, "../")
            kept.append(output)
        cell.outputs = kept
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate and execute every notebook, storing its outputs.")
    parser.add_argument("--fast", action="store_true", help="run on the data slice (KS_NOTEBOOK_FAST=1)")
    parser.add_argument("names", nargs="*", help="only these notebooks (e.g. 01_quickstart)")
    args = parser.parse_args(argv)
    for generator in generators():
        path = notebook_path(generator)
        if args.names and path.stem not in args.names:
            continue
        print(f"executing {path.name} ({'fast' if args.fast else 'full'})", file=sys.stderr, flush=True)
        nb = execute(build(load_cells(generator), fast=args.fast), fast=args.fast)
        nbformat.write(clean(nb), str(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
