# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Rules every source file we ship follows.

- No product file (the package, the benchmarks, the notebook generators, the
  diagram sources, the Python of tflm_ops) edits the import path: the package
  is installed, the benchmarks run as modules (``python -m benchmarks.X``) from
  the repository root, and a script needs nothing beside its own folder.
- Every source file we own (Python, C, C++, includes, assembly, linker
  scripts, Makefiles, CMake, the ``run`` script) starts with the licence
  header: ``SPDX-License-Identifier: Apache-2.0`` and the copyright line, in
  the file's comment syntax (after a ``#!`` line).
- Tests sit beside their modules with one naming convention (keras-team/keras
  style): every module of the package has ``<module>_test.py`` in its folder,
  no file is named ``test_*.py``, and pytest's ``python_files`` and
  ``testpaths`` (pyproject.toml) collect every ``*_test.py`` of the tree.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".git", "build", "__pycache__", ".pytest_cache", ".ruff_cache", "keras_subnets.egg-info"}

# sys.path.insert / append / extend / remove, sys.path[...] = , sys.path += , sys.path = , site.addsitedir,
# and setting PYTHONPATH for a child process.
PATH_EDIT = re.compile(
    r"\bsys\.path\s*(\.\s*(insert|append|extend|remove|pop|clear)\b|\[[^\]]*\]\s*=|\+=|=(?!=))"
    r"|\bsite\.addsitedir\b"
    r"|[\"']PYTHONPATH[\"']\s*[\]:,]"
)


def _walk(top: Path):
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(folder) / name


def product_python_files() -> list[Path]:
    """Every .py file of the repository that is not a test (tests/, *_test.py, conftest.py)."""
    found = []
    for path in _walk(ROOT):
        rel = path.relative_to(ROOT)
        if path.suffix != ".py" or rel.parts[0] == "tests":
            continue
        if path.name.endswith("_test.py") or path.name == "conftest.py":
            continue
        found.append(path)
    return found


def path_edits(text: str) -> list[tuple[int, str]]:
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1)
            if PATH_EDIT.search(line.split("#", 1)[0])]  # fmt: skip


def test_the_product_files_are_found():
    rels = {p.relative_to(ROOT).as_posix() for p in product_python_files()}
    for expected in ("keras_subnets/__init__.py", "benchmarks/report.py", "notebooks/_builder.py"):
        assert expected in rels
    assert not any(r.endswith("_test.py") or r.startswith("tests/") for r in rels)


def test_the_check_sees_each_kind_of_path_edit():
    for line in ("sys.path.insert(0, str(ROOT))", "sys.path.append('x')", "sys.path[:0] = [d]",
                 "sys.path += [d]", "sys.path = [d] + sys.path", "site.addsitedir(d)",
                 "env = {**os.environ, 'PYTHONPATH': str(ROOT)}", 'os.environ["PYTHONPATH"] = d'):  # fmt: skip
        assert path_edits(line), line
    for line in ("print(sys.path)", "if d in sys.path:", "x = sys.path == y", "# sys.path.insert(0, d)"):
        assert not path_edits(line), line


def test_no_product_file_edits_the_import_path():
    bad = [f"{path.relative_to(ROOT)}:{i}: {line}"
           for path in product_python_files()
           for i, line in path_edits(path.read_text(encoding="utf-8", errors="replace"))]  # fmt: skip
    hint = "product code must not edit sys.path (install the package, run benchmarks as modules):\n"
    assert not bad, hint + "\n".join(bad)


SPDX = "SPDX-License-Identifier: Apache-2.0"
COPYRIGHT = "Copyright 2026 The keras-subnets Authors"
HASH_COMMENT = {".py", ".mk", ".cmake"}
SLASH_COMMENT = {".c", ".h", ".cc", ".inc"}
BLOCK_COMMENT = {".ld", ".S"}
HASH_NAMES = {"Makefile", "CMakeLists.txt", "run"}


def licence_header(path: Path) -> tuple[str, str] | None:
    """The two header lines a source file of ours starts with, or None for a file that has none."""
    if path.suffix in HASH_COMMENT or path.name in HASH_NAMES:
        return f"# {SPDX}", f"# {COPYRIGHT}"
    if path.suffix in SLASH_COMMENT:
        return f"// {SPDX}", f"// {COPYRIGHT}"
    if path.suffix in BLOCK_COMMENT:
        return f"/* {SPDX} */", f"/* {COPYRIGHT} */"
    return None


def header_problem(path: Path, text: str) -> str | None:
    expected = licence_header(path)
    lines = text.splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    if expected is None or tuple(lines[:2]) == expected:
        return None
    return f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: expected first lines {expected}"


def owned_source_files() -> list[Path]:
    # .ci/ belongs to the machinery that runs CI, not to the project.
    return [p for p in _walk(ROOT) if licence_header(p) is not None and p.relative_to(ROOT).parts[0] != ".ci"]


def test_the_licence_check_sees_a_missing_or_wrong_header():
    good = "// SPDX-License-Identifier: Apache-2.0\n// Copyright 2026 The keras-subnets Authors\n\n#include <x.h>\n"
    assert header_problem(ROOT / "a.c", good) is None
    assert header_problem(ROOT / "a.c", "#include <x.h>\n")
    assert header_problem(ROOT / "a.c", good.replace("Apache-2.0", "MIT"))
    assert header_problem(ROOT / "a.c", good.replace("2026 The keras-subnets", "2026 Someone"))
    assert header_problem(ROOT / "a.py", good)  # C comments in a Python file
    script = "#!/usr/bin/env bash\n# SPDX-License-Identifier: Apache-2.0\n# Copyright 2026 The keras-subnets Authors\n"
    assert header_problem(ROOT / "run", script) is None
    assert header_problem(ROOT / "notes.md", "") is None
    rels = {p.relative_to(ROOT).as_posix() for p in owned_source_files()}
    for expected in ("run", "tflm_ops/Makefile", "tflm_ops/core/ks_common.c", "tests/docs_test.py",
                     "tflm_ops/firmware/keras_subnets_tflm.cmake", "tflm_ops/cortex_m/ld/mps2.ld"):  # fmt: skip
        assert expected in rels, expected


def test_every_source_file_carries_the_licence_header():
    bad = [problem for path in owned_source_files()
           if (problem := header_problem(path, path.read_text(encoding="utf-8", errors="replace")))]  # fmt: skip
    assert not bad, f"{len(bad)} file(s) without the licence header:\n" + "\n".join(bad)


# Package modules that cannot have a test beside them, each with its reason. Empty: every module has one.
NO_TEST_BESIDE: dict[str, str] = {}


def modules_without_a_test(root: Path = ROOT) -> list[str]:
    """Modules of the package (not ``__init__.py``, tests or conftest.py) with no ``<module>_test.py`` beside them."""
    package = root / "keras_subnets"
    missing = []
    for path in _walk(package):
        if path.suffix != ".py" or path.name in ("__init__.py", "conftest.py") or path.name.endswith("_test.py"):
            continue
        if not path.with_name(f"{path.stem}_test.py").is_file():
            missing.append(path.relative_to(root).as_posix())
    return missing


def misnamed_tests(root: Path = ROOT) -> list[str]:
    return [p.relative_to(root).as_posix() for p in _walk(root) if p.name.startswith("test_") and p.suffix == ".py"]


def test_the_test_layout_checks_see_a_missing_or_misnamed_test(tmp_path):
    package = tmp_path / "keras_subnets" / "sub"
    package.mkdir(parents=True)
    for name in ("__init__.py", "tested.py", "tested_test.py", "untested.py", "conftest.py"):
        (package / name).write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_old_style.py").write_text("")
    assert modules_without_a_test(tmp_path) == ["keras_subnets/sub/untested.py"]
    assert misnamed_tests(tmp_path) == ["tests/test_old_style.py"]


def test_every_module_has_a_test_beside_it():
    missing = sorted(set(modules_without_a_test()) - NO_TEST_BESIDE.keys())
    assert not missing, "modules without a <module>_test.py beside them:\n" + "\n".join(missing)
    stale = sorted(NO_TEST_BESIDE.keys() - set(modules_without_a_test()))
    assert not stale, f"NO_TEST_BESIDE lists modules that exist with a test, or no longer exist: {stale}"


def test_tests_are_named_module_test_and_pytest_collects_them_all():
    assert not misnamed_tests(), f"name tests <module>_test.py, not test_*.py: {misnamed_tests()}"
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["python_files"] == ["*_test.py"]
    uncollected = [p.relative_to(ROOT).as_posix() for p in _walk(ROOT)
                   if p.name.endswith("_test.py") and p.relative_to(ROOT).parts[0] not in options["testpaths"]]
    assert not uncollected, f"outside pytest's testpaths {options['testpaths']}: {uncollected}"
