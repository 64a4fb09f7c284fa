"""Writes notebooks from cell lists, so their source stays reviewable Python."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    """Writes an unexecuted notebook; cells are ``("md" | "code", source)``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(src.strip()) if kind == "md" else nbformat.v4.new_code_cell(src.strip())
        for kind, src in cells
    ]
    nbformat.write(nb, str(path))
