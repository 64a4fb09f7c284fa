# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The command-line tools on a data slice: demo (the README's main job) and convert."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from keras_subnets.convert import read_levels

ROOT = Path(__file__).resolve().parents[1]
# The console script's own entry point, run from this tree: the installed
# `keras-subnets` script would import whichever checkout was pip-installed.
CLI = [sys.executable, "-m", "keras_subnets_cli"]


def _run(*args, timeout=600, env=None):
    # No TF_CPP_MIN_LOG_LEVEL: the tool itself must keep TensorFlow quiet.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} if env is None else env
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _cpp_log_lines(text: str) -> list[str]:
    # TensorFlow's C++ logging ("I0000 00:00:1796.. 123 cudart_stub.cc:31] ..."),
    # written independently of the tool's own filter.
    return [line for line in text.splitlines()
            if re.match(r"[IWEF]\d{4} \S+\s+\d+ \S+\.cc:\d+\]", line) or "absl::InitializeLog" in line
            or "oneDNN" in line or "cuInit" in line]


def test_help_lists_every_command_and_exits_0():
    from keras_subnets.cli import COMMANDS

    for args in (["--help"], ["-h"], ["help"]):
        done = _run(*args)
        assert done.returncode == 0, done.stderr[-2000:]
        listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")]
        assert listed == list(COMMANDS)
    done = _run("convert", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: keras-subnets convert")
    assert "--quantize" in done.stdout and "--budgets" not in done.stdout


def test_help_does_not_import_tensorflow():
    # What the console script runs, in a fresh interpreter; then which heavy
    # modules it loaded.
    probe = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "import keras_subnets_cli\n"
        "for argv in (['keras-subnets', '--help'], ['keras-subnets', 'convert', '--help']):\n"
        "    sys.argv = argv\n"
        "    try:\n"
        "        keras_subnets_cli.run()\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, done.code\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch', 'numpy', 'keras_subnets')\n"
        "               if m in sys.modules)\n"
        "print('HEAVY', heavy, time.perf_counter() - start)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: keras-subnets convert" in done.stdout
    report = next(line for line in done.stdout.splitlines() if line.startswith("HEAVY"))
    assert report.split(" [")[1].startswith("]"), report
    assert "keras_subnets" not in report.split("]")[0]


def test_commands_print_no_tensorflow_cpp_log_lines_unless_asked(tmp_path):
    missing = str(tmp_path / "missing.tflite")
    done = _run("inspect", missing)
    # TensorFlow is imported (the package needs it) but says nothing.
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"keras-subnets inspect: cannot read '{missing}': No such file or directory"]
    done = _run("inspect", missing, "--verbosity=0")
    assert done.returncode == 1 and _cpp_log_lines(done.stderr), done.stderr[-2000:]


def test_demo_prints_the_per_level_table(tmp_path):
    out = tmp_path / "demo.keras"
    done = _run("demo", "--pretrain_epochs=0", "--epochs=1", "--train_samples=1024", "--test_samples=256",
                "--kind=row", f"--output={out}")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["level", "target", "sparsity"])
    table = lines[header + 2:header + 6]
    assert [line.split()[0] for line in table] == ["0", "1", "2", "3"]
    assert [line.split()[1] for line in table] == ["0.90", "0.75", "0.50", "0.00"]
    assert out.is_file()

    calibration = tmp_path / "calibration.npy"
    np.save(calibration, np.random.default_rng(0).uniform(size=(20, 28, 28, 1)).astype("float32"))
    tflite = tmp_path / "demo.tflite"
    # The command converts on TensorFlow even when the shell selects another backend.
    jax_shell = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"KERAS_BACKEND": "jax"}
    done = _run("convert", str(out), "-o", str(tflite), "--quantize=int8", f"--data={calibration}", env=jax_shell)
    assert done.returncode == 0, done.stderr[-3000:]
    # stderr is a pipe here, as in a log file: one line per level, no \\r.
    progress = [line for line in done.stderr.splitlines() if "calibrating level" in line]
    assert progress == [f"keras-subnets convert: calibrating level {k} ({k + 1}/4)" for k in range(4)]
    assert "\r" not in done.stderr
    assert not _cpp_log_lines(done.stderr), done.stderr[-2000:]
    assert read_levels(tflite.read_bytes())["quantize"] == "int8"
    assert [line.split()[1] for line in done.stdout.splitlines() if line.strip().startswith("level")] == [
        "0:", "1:", "2:", "3:"]
    done = _run("convert", str(tmp_path / "missing.keras"), "-o", str(tflite), "--quantize=float32")
    assert done.returncode == 1 and "missing.keras" in done.stderr
    text = tmp_path / "notes.keras"
    text.write_text("not a model\n")
    done = _run("convert", str(text), "-o", str(tflite), "--quantize=float32")
    assert done.returncode == 1 and f"'{text}' is not a .keras zip file" in done.stderr
    done = _run("convert", str(out), "-o", str(tflite), "--data=/nonexistent.npy")
    assert done.returncode == 1 and "/nonexistent.npy" in done.stderr


def test_cli_rejects_unknown_commands():
    done = _run("train-everything")
    assert done.returncode == 2 and "usage: keras-subnets" in done.stderr


def test_knapsack_checks_budgets_before_loading_anything(tmp_path):
    missing = str(tmp_path / "never_read.keras")
    done = _run("knapsack", missing, "--budgets=1.5,0.2")
    assert done.returncode == 1 and "(0, 1], got [1.5]" in done.stderr
    done = _run("knapsack", missing, "--budgets=")
    assert done.returncode == 1 and "--budgets is empty" in done.stderr
    assert "never_read.keras" not in done.stderr


def test_knapsack_prints_widths_and_drop_order(tmp_path):
    import keras_subnets as ks

    path = tmp_path / "ds_cnn_s.keras"
    ks.zoo.ds_cnn_s().save(path)
    done = _run("knapsack", str(path), "--budgets=0.25,0.5,0.75", "--data=")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["level", "macs"])
    widths = [line.split() for line in lines[header + 1:header + 5]]
    assert [row[1] for row in widths] == ["25.0%", "50.0%", "75.0%", "100.0%"]
    stem = [int(row[2]) for row in widths]
    assert stem == sorted(stem) and stem[-1] == 64
    assert "to level 0:" in done.stdout and "HiGHS" in done.stdout
    table = tmp_path / "latency.json"
    table.write_text('{"stem": {"per_mac": 2.0}}')
    done = _run("knapsack", str(path), f"--resource={table}", "--data=")
    assert done.returncode == 1 and "no entry for layer" in done.stderr
    done = _run("knapsack", str(path), "--budgets=0.001", "--data=")
    assert done.returncode == 1 and "raise the budget" in done.stderr
