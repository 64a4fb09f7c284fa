# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Writes a benchmark's table into docs/benchmarks.md with its provenance."""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Measured numbers only, each section written by the script it names, with the
command, date, machine and commit that produced it. Timings on these shared
machines are noisy: compare ratios measured in the same run.
Run a script from the repository root as a module: `python -m benchmarks.<name>`.
"""


def _commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return commit + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# Read when a benchmark starts: a long run must name the code it ran, not the commit its end finds.
_COMMIT_AT_START = _commit()


def provenance(argv: list[str] | None = None) -> str:
    """Command, date, machine and commit (as of the benchmark's start), as a Markdown list."""
    argv = sys.argv if argv is None else argv
    commit = _COMMIT_AT_START
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    script = Path(os.path.relpath(argv[0], ROOT))
    # The scripts run as modules of the benchmarks package (python -m benchmarks.X).
    runner = ["-m", ".".join(script.with_suffix("").parts)] if script.suffix == ".py" else [str(script)]
    command = " ".join(["python", *runner, *argv[1:]])
    return (
        f"- command: `{command}`\n"
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}\n"
        f"- commit: {commit}\n"
    )


def write_section(name: str, title: str, body: str) -> None:
    """Replaces (or appends) the section ``name`` of docs/benchmarks.md."""
    DOC.parent.mkdir(exist_ok=True)
    text = DOC.read_text() if DOC.exists() else HEADER
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n## {title}\n\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)
    print(f"wrote section '{name}' of {DOC.relative_to(ROOT)}")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
