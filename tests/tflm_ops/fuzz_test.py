# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Bounded fuzz runs (tflm_ops/fuzz): the core's validators and kernels (ks_fuzz_validators.c) and a whole
KS_* operator's Prepare / Eval with format v3's dense tensor (ks_fuzz_op.cc).

With clang and its libFuzzer runtime the runs are coverage-guided; without them the same targets are built
with gcc's AddressSanitizer / UndefinedBehaviorSanitizer and fed pseudo-random inputs by
ks_fuzz_driver.c (not coverage-guided, still catches any read past a tensor). Skipped only when neither
compiler can build a sanitized binary."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "tflm_ops"
SANITIZE = ["-g", "-O1", "-fno-sanitize-recover=undefined"]
INCLUDES = [f"-I{OPS / 'include'}", f"-I{OPS / 'core'}", f"-I{OPS / 'tflm'}"]
OP_SOURCES = [OPS / "fuzz" / "ks_fuzz_op.cc", OPS / "tflm" / "ks_op.cc", OPS / "tflm" / "ks_flexbuffer.cc"]
CORE = sorted((OPS / "core").glob("*.c"))


def _libfuzzer(tmp_path: Path) -> bool:
    if shutil.which("clang") is None or shutil.which("clang++") is None:
        return False
    probe = tmp_path / "probe.c"
    probe.write_text(
        "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
        " { (void)d; (void)n; return 0; }\n"
    )
    r = subprocess.run(["clang", "-fsanitize=fuzzer", str(probe), "-o", str(tmp_path / "probe")], capture_output=True)
    return r.returncode == 0


@pytest.fixture(scope="module")
def sanitized_core(tmp_path_factory) -> tuple[list[str], bool]:
    """The core's objects built with sanitizers (once for both targets) and whether libFuzzer is used."""
    tmp = tmp_path_factory.mktemp("fuzz-core")
    fuzzer = _libfuzzer(tmp)
    cc = "clang" if fuzzer else "gcc"
    if shutil.which(cc) is None or shutil.which("g++" if cc == "gcc" else "clang++") is None:
        pytest.skip("neither clang (libFuzzer) nor gcc is installed")
    sanitizers = "-fsanitize=fuzzer-no-link,address,undefined" if fuzzer else "-fsanitize=address,undefined"
    sources = [*CORE, *([] if fuzzer else [OPS / "fuzz" / "ks_fuzz_driver.c"])]
    def compile_one(src: Path):
        obj = tmp / (src.stem + ".o")
        return str(obj), subprocess.run([cc, "-std=c99", *SANITIZE, sanitizers, *INCLUDES, "-c", str(src), "-o",
                                         str(obj)], capture_output=True, text=True)

    first, r = compile_one(sources[0])
    if r.returncode != 0:
        pytest.skip(f"{cc} cannot build with sanitizers: {r.stderr[-300:]}")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # two cores at most
        built = list(pool.map(compile_one, sources[1:]))
    for _, r in built:
        assert r.returncode == 0, r.stderr[-3000:]
    return [first, *(obj for obj, _ in built)], fuzzer


def _build(tmp_path: Path, target: str, objects: list[str], fuzzer: bool) -> Path:
    """The fuzz binary for ``target`` ("validators" or "op")."""
    cc, cxx = ("clang", "clang++") if fuzzer else ("gcc", "g++")
    link = "-fsanitize=fuzzer,address,undefined" if fuzzer else "-fsanitize=address,undefined"
    cmd = [cxx, "-std=c++17", *SANITIZE, link, *INCLUDES]
    if target == "op":
        cmd += map(str, OP_SOURCES)
    else:
        obj = tmp_path / "ks_fuzz_validators.o"
        r = subprocess.run([cc, "-std=c99", *SANITIZE, link.replace("fuzzer,", "fuzzer-no-link,"), *INCLUDES, "-c",
                            str(OPS / "fuzz" / "ks_fuzz_validators.c"), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        cmd.append(str(obj))
    exe = tmp_path / f"ks_fuzz_{target}"
    cmd += [*objects, "-lm", "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return exe


def _run(tmp_path: Path, exe: Path, runs: int, fuzzer: bool) -> None:
    args = [f"-runs={runs}", "-seed=1"]  # fixed runs: deterministic
    if fuzzer:
        corpus = tmp_path / f"corpus-{exe.name}"
        corpus.mkdir()
        args = [str(corpus), *args, "-rss_limit_mb=4096"]
    r = subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        # A small ASan quarantine keeps RSS low on a loaded 2-core CI machine
        # (a 1 GiB RSS limit was once hit there with the default quarantine).
        env={**os.environ, "ASAN_OPTIONS": "quarantine_size_mb=32"},
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "Done" in r.stdout + r.stderr


# Runs: coverage-guided (libFuzzer) and pseudo-random (gcc driver, whose inputs are longer on average).
RUNS = {"validators": (300_000, 30_000), "op": (200_000, 50_000)}


@pytest.mark.parametrize("target", ["validators", "op"])
def test_fuzz_short_run(tmp_path, target, sanitized_core):
    objects, fuzzer = sanitized_core
    exe = _build(tmp_path, target, objects, fuzzer)
    _run(tmp_path, exe, RUNS[target][0 if fuzzer else 1], fuzzer)
