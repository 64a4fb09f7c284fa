# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The documentation cannot drift from the tree: section references, paths and cited sources.

Checks, over every Markdown file and every source file of the repository:

- each `§N` / `§N.M` reference names a section that exists in the document it
  points to (`docs/format.md` unless another `.md` file is named next to it;
  inside `tflm_ops/` and `keras_subnets/convert/` an unqualified `§` means the
  format document), and a reference whose sentence names what a section holds
  ("flexbuffer options", "operator inputs", "scratch", "status codes", ...)
  points at the section whose heading holds it;
- each backticked repository path in a Markdown file exists (relative to the
  repository, to the document's folder or to `tflm_ops/`; a bare file name
  anywhere in the tree), except the few names the text says are generated or
  belong to another tree;
- no file cites a document outside the repository (figures are copied with
  their original source, `docs/baselines.md`), and each benchmark section's
  command runs a script of the benchmarks package that exists.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".git", "build", "__pycache__", ".pytest_cache", ".ruff_cache", "keras_subnets.egg-info"}
SOURCE_SUFFIXES = {".md", ".py", ".c", ".h", ".cc", ".inc", ".cmake", ".mk", ".ld"}

# A sentence that uses one of these words speaks of what the section whose
# heading holds the key describes; its § reference must point there.
TOPICS = {
    "flexbuffer": ("flexbuffer", "custom options", "options of"),
    "custom operators": ("operator inputs", "inputs in file order", "custom operators ("),
    "scratch buffers": ("scratch",),
    "status codes": ("status code",),
    "convolution geometry": ("padding", "computeoutsize"),
    "build options": ("single_rounding", "single rounding"),
}

# Backticked names that are not files of this tree: outputs a command writes, a
# header of another project, a file the user may provide.
NOT_IN_TREE = {
    "model_data.cc",  # written by `keras-subnets export-c`
    "model_data.h",  # written by `keras-subnets export-c`
    "qemu-plugin.h",  # QEMU's header, which Debian does not ship
    "governor_trace.h",  # an optional trace the user writes
    "src/",  # an Arduino library's folder
}
# Prefixes of paths inside a TFLM, CMSIS or build tree, not ours.
EXTERNAL_PREFIXES = ("tensorflow/", "kernels/", "tools/", "Include/", "build/", "out/")


@functools.cache
def _tree() -> tuple[Path, ...]:
    # Walked once, pruning the skipped folders: a virtualenv in the clone holds
    # tens of thousands of files that rglob would visit for every lookup.
    out = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        out.extend(Path(folder) / name for name in names)
    return tuple(sorted(out))


def _files(suffixes: set[str]) -> list[Path]:
    return [p for p in _tree() if p.suffix in suffixes or p.name == "Makefile"]


_HEADING = re.compile(r"^#{2,4}\s+(?:(\d+(?:\.\d+)?)\.?\s+)?(.*)$", re.M)


def sections(doc: Path) -> dict[str, str]:
    """Section number -> heading text, with its subsections' headings appended."""
    out: dict[str, str] = {}
    current = None
    for m in _HEADING.finditer(doc.read_text(encoding="utf-8")):
        number, title = m.group(1), m.group(2)
        if number:
            current = number
            out[number] = title
            if "." in number:
                out[number.split(".")[0]] += " " + title
        elif current:
            out[current] += " " + title
            if "." in current:
                out[current.split(".")[0]] += " " + title
    return out


_REF = re.compile(
    r"(?:`?(?P<doc>[\w./-]+\.md)`?\s*|(?P<fmt>\bformat)\s+)?§\s?(?P<num>\d+(?:\.\d+)?)"
    r"(?:\s+of\s+`?(?P<doc2>[\w./-]+\.md)`?)?"
)


def _target(m: re.Match, rel: Path) -> Path | None:
    name = m.group("doc") or m.group("doc2")
    if name is None and m.group("fmt"):
        name = "format.md"
    if name is None:
        if rel.as_posix() == "docs/format.md" or rel.parts[0] == "tflm_ops" or rel.as_posix().startswith(
            "keras_subnets/convert"
        ):
            name = "format.md"
        else:
            return None  # a paper's section (e.g. "LCS, §3.3"), not ours
    matches = [p for p in _files({".md"}) if p.name == Path(name).name]
    return matches[0] if len(matches) == 1 else ROOT / name


def _sentence_before(text: str, end: int, suffix: str) -> str:
    """The words of the sentence (or table cell, or comment) that ends at ``end``, lower case."""
    start = max(end - 120, 0)
    for stop in (". ", "; ", "\n\n", "\n|", "\n#", "|"):
        start = max(start, text.rfind(stop, 0, max(end - 15, 0)) + len(stop))
    if suffix != ".md":  # in code, only the comment lines just above count
        lines = text[start:end].split("\n")
        keep = [lines[-1]]
        for previous in reversed(lines[:-1]):
            if not previous.lstrip().startswith(("#", "//", "*", "/*")):
                break
            keep.insert(0, previous)
        return "\n".join(keep).lower()
    return text[start:end].lower()


def references() -> list[tuple[Path, int, str, Path, str]]:
    """(file, line, number, target document, the sentence before the reference)."""
    out = []
    for path in _files(SOURCE_SUFFIXES):
        rel = path.relative_to(ROOT)
        if rel.name == "docs_test.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in _REF.finditer(text):
            target = _target(m, rel)
            if target is None:
                continue
            line = text.count("\n", 0, m.start()) + 1
            out.append((rel, line, m.group("num"), target, _sentence_before(text, m.start(), path.suffix)))
    return out


def test_there_are_references_to_check():
    refs = references()
    assert len(refs) > 40
    assert any(target.name == "format.md" and number == "12" for _, _, number, target, _ in refs)


def test_every_section_reference_exists():
    bad = []
    for rel, line, number, target, _ in references():
        if not target.exists():
            bad.append(f"{rel}:{line}: §{number} of {target.relative_to(ROOT)}, which does not exist")
        elif number not in sections(target):
            bad.append(f"{rel}:{line}: §{number} is not a section of {target.relative_to(ROOT)}")
    assert not bad, "\n".join(bad)


def test_section_references_point_at_their_topic():
    bad = []
    for rel, line, number, target, sentence in references():
        if not target.exists():
            continue
        heads = {n: t.lower() for n, t in sections(target).items()}
        for key, words in TOPICS.items():
            owners = [n for n, t in heads.items() if key in t and "." not in n]
            if not owners or not any(w in sentence for w in words):
                continue
            if number.split(".")[0] not in owners:
                bad.append(f"{rel}:{line}: §{number} for {words[0]!r}, which {target.name} has in §{owners[0]}")
    assert not bad, "\n".join(bad)


def test_the_topic_table_matches_the_headings():
    heads = " ".join(sections(ROOT / "docs" / "format.md").values()).lower()
    assert all(key in heads for key in TOPICS), [k for k in TOPICS if k not in heads]


_BACKTICKED = re.compile(r"`([^`\s]+)`")
_PATHLIKE = re.compile(r"\.(py|md|c|h|cc|inc|cmake|mk|ipynb|toml|json|sh|ld)$|/$")


def _tree_names() -> set[str]:
    return {p.name for p in ROOT.rglob("*") if not set(p.relative_to(ROOT).parts) & SKIP_DIRS}


def test_every_backticked_path_exists():
    names = _tree_names()
    bad = []
    for doc in _files({".md"}):
        text = doc.read_text(encoding="utf-8")
        for m in _BACKTICKED.finditer(text):
            token = m.group(1).rstrip(".,;:)").split("::")[0]
            if not _PATHLIKE.search(token) or re.search(r"[<>=*$~]|^-|^/|^https?:", token):
                continue
            if token.startswith(EXTERNAL_PREFIXES) or token in NOT_IN_TREE:
                continue
            candidates = (ROOT / token, doc.parent / token, ROOT / "tflm_ops" / token)
            bare = "/" not in token.rstrip("/")
            if any(c.exists() for c in candidates) or (bare and token in names) or (bare and token.startswith(".")):
                continue
            line = text.count("\n", 0, m.start()) + 1
            bad.append(f"{doc.relative_to(ROOT)}:{line}: `{token}` is not in the tree")
    assert not bad, "\n".join(bad)


def test_nothing_cites_a_document_outside_the_repository():
    # The project's handouts live beside the repository, under any path: cite them by copying, never by path.
    outside = re.compile(r"shared/(baselines|papers|tflm-notes)\.md|\.\./shared/[\w-]+\.md")
    bad = []
    for path in _files(SOURCE_SUFFIXES):  # notebooks: their generators (make_*.py) are checked
        rel = path.relative_to(ROOT)
        if rel.name == "docs_test.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if outside.search(line):
                bad.append(f"{rel}:{i}: {line.strip()[:100]}")
    assert not bad, "copy the figures into docs/ with their original source:\n" + "\n".join(bad)


def test_every_benchmark_command_names_a_script_in_the_tree():
    # The scripts are modules of the benchmarks package: run as a file they would not find benchmarks.report.
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    commands = re.findall(r"^- command: `([^`]+)`", text, re.M)
    assert commands, "docs/benchmarks.md lists no command"
    bad = []
    for command in commands:
        module = re.match(r"python -m (benchmarks\.\w+)(\s|$)", command)
        if not module or not (ROOT / (module.group(1).replace(".", "/") + ".py")).exists():
            bad.append(command)
    assert not bad, "expected `python -m benchmarks.<script>` naming a script of benchmarks/:\n" + "\n".join(bad)


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md", "docs/format.md", "tflm_ops/README.md"])
def test_key_documents_exist(doc):
    assert (ROOT / doc).stat().st_size > 1000


def test_the_architecture_diagram_is_drawn_from_its_source():
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    result = subprocess.run([sys.executable, str(ROOT / "docs" / "diagrams" / "architecture.py"), "--check"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "architecture.svg" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
