# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""keras-subnets inspect / export-c / profile from the shell."""

import os
import re
import subprocess
import sys
from pathlib import Path

from firmware_models import LEVELS, cached_file, require_target

from keras_subnets.convert import densify
from keras_subnets.convert.options import FORMAT_VERSION
from keras_subnets.firmware import modelfile

CLI = [sys.executable, "-m", "keras_subnets.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _run(*args, env=None, timeout=900):
    # The checkout under test first on the path (the console script may point at another clone).
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=path, **(env or {}))
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_inspect_export_c_and_their_errors(tmp_path):
    path = tmp_path / "q.tflite"
    path.write_bytes(cached_file("quickstart", "unstructured"))
    done = _run("inspect", str(path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "operators to register: tflite::MicroMutableOpResolver<6>" in done.stdout
    assert re.search(r"builtin AVERAGE_POOL_2D\s+x1\s+resolver\.AddAveragePool2D\(\);", done.stdout)
    pw2 = rf"pw2\s+KS_CONV_2D\s+nested_csr\s+{FORMAT_VERSION}\s+4\s+128 x 64\s+per-level\s+dense"
    assert re.search(pw2, done.stdout)
    assert len(re.findall(r"^\s+\d\s+0\.\d{3}\s", done.stdout, re.M)) == len(LEVELS)

    out = tmp_path / "fw" / "model_data.cc"
    out.parent.mkdir()
    done = _run("export-c", str(path), "-o", str(out), "--name", "g_quick")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "alignas(16) const unsigned char g_quick[]" in out.read_text()
    assert "g_quick_register_ops" in out.with_suffix(".h").read_text()

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\0" * 64)
    for args, message in [(("inspect", str(tmp_path / "none.tflite")), "cannot read"),
                          (("inspect", str(bad)), "is not a TFLite flatbuffer"),
                          (("export-c", str(path)), "needs -o/--output"),
                          (("export-c", str(path), "-o", str(tmp_path / "no" / "m.cc")), "cannot write"),
                          (("export-c", str(path), "-o", str(out), "--name", "9x"), "not a C identifier"),
                          (("profile", str(path)), "no TFLM tree")]:
        done = _run(*args, env={"TFLM_ROOT": str(tmp_path / "no-tflm")})
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
    done = _run("profile", "--help")
    assert done.returncode == 0 and "usage: keras-subnets profile FILE.tflite" in done.stdout
    assert "--baseline" in done.stdout and "--tflm_root" in done.stdout


def test_profile_with_baseline_writes_counts(tmp_path, tflm_root):
    require_target("m4")
    blob = cached_file("quickstart", "unstructured")
    path, plain = tmp_path / "q.tflite", tmp_path / "plain.tflite"
    path.write_bytes(blob)
    plain.write_bytes(densify(blob, len(LEVELS) - 1))
    done = _run("profile", str(path), "--cpu", "m4", "--baseline", str(plain), "--per_op", "--write",
                f"--tflm_root={tflm_root}")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {m.group(1): int(m.group(2).replace(",", "")) for m in
            re.finditer(r"^\s*(baseline|\d)\s+\S+\s+\S+\s+([\d,]+)\s+\d\.\d{3}$", done.stdout, re.M)}
    assert sorted(rows) == ["0", "1", "2", "3", "baseline"]
    summary = re.search(r"^summary: densest/baseline=([\d.]+) sparsest/baseline=([\d.]+)$", done.stdout, re.M)
    assert summary and float(summary.group(1)) == round(rows["3"] / rows["baseline"], 3)
    assert "operators at level 0:" in done.stdout and "operators at baseline:" in done.stdout
    table = modelfile.level_table(path.read_bytes())
    assert [row["instructions_m4"] for row in table["levels"]] == [rows[str(k)] for k in range(len(LEVELS))]
    assert table["arena_m4"] > 0 and table["flash_m4"] > len(blob)
    done = _run("inspect", str(path))
    assert "instructions_m4" in done.stdout and "arena_m4" in done.stdout
