# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Every Python snippet of README.md runs, and every command it shows exists.

The snippets run in order in one namespace, as a reader would paste them, on
a small random slice of Fashion-MNIST-shaped data (`x, y`, `x_test, y_test`,
`dense_model` are the names the README says it assumes). Shell lines: every
`keras-subnets COMMAND --flags` is checked against the tool's own commands and
flags, and the cheap ones (`--help`, `inspect` and `export-c` of the file the
snippets wrote) are run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from keras_subnets.cli import COMMANDS, HELP

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = [sys.executable, "-m", "keras_subnets_cli"]
# Flags absl defines for every command, and the CLI's aliases.
GLOBAL_FLAGS = {"verbosity", "v", "help"}
ALIASES = {"cpu": "target", "per_op": "ops", "o": "output"}


def _python_blocks() -> list[tuple[int, str]]:
    return [(README[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", README, re.S | re.M)]


def _shell_commands(tool: str) -> list[str]:
    """Every `tool ...` command the README shows, in sh blocks or in backticks."""
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M):
        found += [line.split("#")[0].strip() for line in block.splitlines() if line.startswith(tool + " ")]
    found += [" ".join(span.split()) for span in re.findall(rf"`({re.escape(tool)} [^`]+)`", README)]
    return found


def _cli(*args, cwd=ROOT):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    # This tree's launcher and package, from any working directory.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env,
                          check=False)


def test_readme_has_the_snippets_this_test_runs():
    blocks = _python_blocks()
    assert len(blocks) >= 6
    assert any("ks.convert.convert(" in code for _, code in blocks)
    assert len(_shell_commands("keras-subnets")) >= 6


def test_every_python_snippet_runs_in_order(tmp_path, monkeypatch):
    import keras

    import keras_subnets as ks

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    namespace = {
        "x": rng.uniform(size=(160, 28, 28, 1)).astype("float32"), "y": rng.integers(0, 10, 160),
        "x_test": rng.uniform(size=(48, 28, 28, 1)).astype("float32"), "y_test": rng.integers(0, 10, 48),
        "dense_model": ks.zoo.quickstart_cnn(),
    }
    for line, code in _python_blocks():
        # The README trains for a reader's 5-20 epochs; two show the same code paths on 160 samples.
        code = re.sub(r"\bepochs=\d+", "epochs=2", code)
        exec(compile(code, f"README.md, the snippet at line {line}", "exec"), namespace)  # noqa: S102
    # What the snippets promise to leave behind.
    assert (tmp_path / "nested.keras").is_file() and (tmp_path / "best_level_0.keras").is_file()
    levels = ks.convert.read_levels((tmp_path / "model.tflite").read_bytes())["levels"]
    assert len(levels) >= 2
    assert isinstance(namespace["levels"], ks.SubnetModel)
    # The shell lines that need only that file.
    done = _cli("inspect", "model.tflite", cwd=tmp_path)
    assert done.returncode == 0 and "KS_" in done.stdout, done.stderr[-2000:]
    done = _cli("export-c", "model.tflite", "-o", "model_data.cc", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "model_data.cc").is_file() and (tmp_path / "model_data.h").is_file()


def test_every_keras_subnets_command_line_uses_real_commands_and_flags():
    for command in _shell_commands("keras-subnets"):
        words = command.split()
        assert words[1] in COMMANDS, f"README: unknown command in `{command}`"
        known = set(HELP[words[1]][2]) | GLOBAL_FLAGS
        for word in words[2:]:
            if word.startswith("-"):
                name = word.lstrip("-").split("=")[0]
                assert ALIASES.get(name, name) in known, f"README: `{command}`: {word} is not a flag of {words[1]}"


def test_every_command_the_readme_shows_answers_help():
    for command in sorted({c.split()[1] for c in _shell_commands("keras-subnets")}):
        done = _cli(command, "--help")
        assert done.returncode == 0 and done.stdout.startswith(f"usage: keras-subnets {command}")
    # `./run demo --help`: the demo's flags the README names are the demo's.
    done = _cli("demo", "--help")
    for flag in ("--kind", "--epochs", "--levels", "--output"):
        assert flag in done.stdout
    assert {c.split()[1] for c in _shell_commands("./run")} <= {"demo", "test", "setup"}
