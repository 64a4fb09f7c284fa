"""A bounded libFuzzer run over the validators and a kernel call
(tflm_ops/fuzz).  Skipped only when clang or its fuzzer runtime is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "tflm_ops"


def _build(tmp_path: Path) -> Path:
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("clang is not installed")
    probe = tmp_path / "probe.c"
    probe.write_text(
        "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
        " { (void)d; (void)n; return 0; }\n"
    )
    r = subprocess.run([clang, "-fsanitize=fuzzer", str(probe), "-o", str(tmp_path / "probe")], capture_output=True)
    if r.returncode != 0:
        pytest.skip("clang's libFuzzer runtime is missing: " + r.stderr.decode()[-300:])
    exe = tmp_path / "ks_fuzz"
    cmd = [
        clang,
        "-g",
        "-O1",
        "-fsanitize=fuzzer,address,undefined",
        "-fno-sanitize-recover=undefined",
        f"-I{OPS / 'include'}",
        f"-I{OPS / 'core'}",
        str(OPS / "fuzz" / "ks_fuzz_validators.c"),
        *map(str, sorted((OPS / "core").glob("*.c"))),
        "-lm",
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return exe


def test_fuzz_validators_and_kernels_short_run(tmp_path):
    exe = _build(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    r = subprocess.run(
        [str(exe), str(corpus), "-runs=300000", "-seed=1", "-rss_limit_mb=4096"],  # fixed runs: deterministic
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        # A small ASan quarantine keeps RSS low on a loaded 2-core CI machine
        # (a 1 GiB RSS limit was once hit there with the default quarantine).
        env={**os.environ, "ASAN_OPTIONS": "quarantine_size_mb=32"},
    )
    assert r.returncode == 0, r.stderr[-4000:]
    assert "Done" in r.stderr
