# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Command-line tools: ``keras-subnets <command> [--flags]``.

Commands:
    demo: train a nested model on Fashion-MNIST and print the per-level table.
    convert MODEL.keras -o MODEL.tflite [--quantize int8|float32] [--data fashion_mnist|FILE.npy]:
        one flatbuffer holding every level (see docs/format.md).
    knapsack MODEL.keras --budgets 0.25,0.5,0.75 [--resource macs|bytes|activations|TABLE.json]
        [--data fashion_mnist]: REDS's nested knapsack, widths per level and the block drop order.
    inspect FILE.tflite: level table, operators to register, per-layer format and sizes.
    export-c FILE.tflite -o model_data.cc [--name g_model]: the file as a C array for a firmware, with a
        header registering exactly its operators.
    profile FILE.tflite [--target m4|m7|x86] [--baseline PLAIN.tflite] [--ops] [--write] [--tflm_root DIR]:
        whole-model instructions per Invoke() at every level on real TFLM + CMSIS-NN under QEMU.

`keras-subnets COMMAND --help` describes one command and its flags.

This module imports only absl and the standard library at module level: the
console script (``keras_subnets_cli``) loads it without the package so that
``--help`` answers without importing TensorFlow. TensorFlow's C++ log lines
(oneDNN notices, "failed call to cuInit", ...) are hidden unless
``--verbosity`` is given.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

from absl import app, flags

FLAGS = flags.FLAGS

flags.DEFINE_list("levels", ["0.9", "0.75", "0.5", "0.0"], "Per-level sparsities, sparsest first.")
flags.DEFINE_enum("kind", "unstructured", ["unstructured", "row", "block", "structured"], "Mask kind.")
flags.DEFINE_integer("pretrain_epochs", 2, "Dense pretraining epochs (demo).")
flags.DEFINE_integer("epochs", 3, "Joint training epochs (demo).")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("train_samples", None, "Use only this many training images.")
flags.DEFINE_integer("test_samples", None, "Use only this many test images.")
flags.DEFINE_string("output", None,
                    "Output file: the trained .keras model (demo), the .tflite (convert), the .cc (export-c).",
                    short_name="o")
flags.DEFINE_enum("quantize", "int8", ["int8", "float32"], "Conversion precision (convert).")
flags.DEFINE_string("data", "fashion_mnist",
                    "Calibration data (convert): 'fashion_mnist' or a .npy file of input samples.")
flags.DEFINE_integer("calibration_samples", 200, "Samples used for int8 calibration (convert).")

flags.DEFINE_list("budgets", ["0.25", "0.5", "0.75"], "Budgets as fractions of the dense cost (knapsack).")
flags.DEFINE_string("resource", "macs",
                    "Knapsack resource: macs, bytes, weights, activations, or a latency-table JSON file "
                    '({"layer": {"per_mac": instructions, "per_output": instructions}}).')
flags.DEFINE_integer("block_size", 1, "Units per knapsack item (knapsack).")
flags.DEFINE_integer("min_units", 8, "Units every layer keeps at least (knapsack).")

flags.DEFINE_enum("target", "m4", ["m4", "m7", "x86"],
                  "Where profile runs the firmware: m4 (QEMU mps2-an386), m7 (mps2-an500), x86 (natively, no "
                  "instruction counts).")
flags.DEFINE_alias("cpu", "target")
flags.DEFINE_string("baseline", None, "A plain .tflite measured in the same run; ratios are to it (profile).")
flags.DEFINE_bool("ops", False, "Also print the per-operator profile (profile).")
flags.DEFINE_alias("per_op", "ops")
flags.DEFINE_bool("write", False, "Store the counts in the file's level table: instructions_<target> per level, "
                  "arena_<target>, flash_<target> (profile).")
flags.DEFINE_string("tflm_root", None, "A tflite-micro tree with its downloads (default $TFLM_ROOT) (profile).")
flags.DEFINE_string("name", "g_model", "C identifier of the model array (export-c).")

COMMANDS = ("demo", "convert", "knapsack", "inspect", "export-c", "profile")
POSITIONAL = {"demo": 0, "convert": 1, "knapsack": 1, "inspect": 1, "export-c": 1, "profile": 1}
HELP = {
    "demo": ("keras-subnets demo [--flags]",
             "Trains a nested model on Fashion-MNIST and prints the per-level table.",
             ["levels", "kind", "pretrain_epochs", "epochs", "batch_size", "train_samples", "test_samples",
              "output"]),
    "convert": ("keras-subnets convert MODEL.keras -o MODEL.tflite [--flags]",
                "Writes one TFLite flatbuffer holding every level (docs/format.md).",
                ["output", "quantize", "data", "calibration_samples"]),
    "knapsack": ("keras-subnets knapsack MODEL.keras [--flags]",
                 "REDS's nested knapsack: widths per level and the order blocks are dropped.",
                 ["budgets", "resource", "block_size", "min_units", "data", "calibration_samples"]),
    "inspect": ("keras-subnets inspect FILE.tflite",
                "Prints what a firmware needs to know about a .tflite file: its level table, the custom and "
                "builtin operators to register (by TFLM resolver name, with the resolver size), and each "
                "keras-subnets operator's format, options version, shape and stored bytes. No TFLM tree needed.",
                []),
    "export-c": ("keras-subnets export-c FILE.tflite -o model_data.cc [--name g_model]",
                 "Writes the file as `alignas(16) const unsigned char NAME[]` plus `NAME_len` to the output, and "
                 "a header (same name, .h) declaring them with NAME_op_count and NAME_register_ops(resolver), "
                 "which registers exactly the operators the file contains.",
                 ["output", "name"]),
    "profile": ("keras-subnets profile FILE.tflite [--target m4|m7|x86] [--flags]",
                "Builds a real TFLite Micro firmware around the file (TFLM + CMSIS-NN for Cortex-M, from a TFLM "
                "tree: --tflm_root or $TFLM_ROOT), runs every level under QEMU and prints the exact instructions "
                "of each whole Invoke(), the ratio to the densest level (or to --baseline), arena and flash. "
                "Works on plain .tflite files too. With --baseline it ends with one line "
                "`summary: densest/baseline=R1 sparsest/baseline=R2`.",
                ["target", "baseline", "ops", "write", "tflm_root"]),
}


def _demo() -> int:
    from keras_subnets.demo import run_demo

    run_demo(
        levels=[float(s) for s in FLAGS.levels], kind=FLAGS.kind, pretrain_epochs=FLAGS.pretrain_epochs,
        epochs=FLAGS.epochs, batch_size=FLAGS.batch_size, train_samples=FLAGS.train_samples,
        test_samples=FLAGS.test_samples, output=FLAGS.output, verbose=2 if not sys.stdout.isatty() else 1,
    )
    return 0


def _calibration_data():
    import numpy as np

    if FLAGS.data == "fashion_mnist":
        from keras_subnets.demo import load_scaled

        (x_train, _), _ = load_scaled(train_samples=FLAGS.calibration_samples)
        return x_train
    try:
        return np.load(FLAGS.data)
    except (OSError, ValueError) as err:
        raise ValueError(f"--data: cannot read '{FLAGS.data}' as a .npy array: {err}") from None


def _convert(path: str) -> int:
    from keras_subnets.convert import convert_file, describe_operators, read_levels

    if not FLAGS.output:
        print("convert needs -o/--output FILE.tflite", file=sys.stderr)
        return 2
    data = _calibration_data() if FLAGS.quantize == "int8" else None
    blob = convert_file(path, FLAGS.output, representative_data=data, quantize=FLAGS.quantize,
                        num_calibration_samples=FLAGS.calibration_samples)
    print(f"wrote {FLAGS.output}: {len(blob):,} bytes, every level in one file")
    for row in read_levels(blob)["levels"]:
        print(f"  level {row['level']}: sparsity {row['sparsity']:.3f}, {row['macs']:,} MACs, "
              f"{row['bytes_read']:,} weight bytes read")
    for op in describe_operators(blob):
        top = "dense kernel" if op["dense_top"] else "sparse kernel"
        print(f"  {op['layer']}: {op['op']} {op['format']}, {op['rows']}x{op['cols']}, tables {op['tables']}, "
              f"densest level: {top} (dense_top={op['dense_top']})")
    return 0


def _budget_fractions(values: list[str]) -> list[float]:
    """--budgets as fractions of the dense cost, each in (0, 1]."""
    if not values:
        raise ValueError("--budgets is empty: give fractions of the dense cost, e.g. --budgets=0.25,0.5,0.75")
    try:
        fractions = [float(b) for b in values]
    except ValueError:
        raise ValueError(f"--budgets must be numbers, got {','.join(values)}") from None
    wrong = [f for f in fractions if not 0.0 < f <= 1.0]
    if wrong:
        raise ValueError(f"--budgets are fractions of the dense cost in (0, 1], got {wrong}")
    return fractions


def _knapsack(path: str) -> int:
    import json
    import os

    from keras_subnets import reds
    from keras_subnets.convert import plain_model
    from keras_subnets.models import SubnetModel
    from keras_subnets.saving import load_model

    # Checked before the model loads and the importance is scored (seconds).
    fractions = _budget_fractions(FLAGS.budgets)
    try:
        model = load_model(path)
    except ValueError:  # already names the file
        raise
    except Exception as err:
        raise ValueError(f"cannot load '{path}' as a Keras model: {err}") from None
    if isinstance(model, SubnetModel):
        model = plain_model(model, model.num_levels - 1)
    latency_table, resource = None, FLAGS.resource
    if resource.endswith(".json") or os.path.sep in resource:
        try:
            with open(resource) as handle:
                latency_table = json.load(handle)
        except (OSError, ValueError) as err:
            raise ValueError(f"--resource: cannot read latency table '{resource}': {err}") from None
        resource = "latency"
    importance = None
    if FLAGS.data:
        from keras_subnets.demo import load_scaled

        if FLAGS.data != "fashion_mnist":
            raise ValueError("--data for knapsack must be 'fashion_mnist' (or empty for weight magnitudes)")
        (x, y), _ = load_scaled(train_samples=FLAGS.calibration_samples * 10)
        print(f"scoring units on {len(x)} Fashion-MNIST images", file=sys.stderr)
        importance = reds.unit_importance(model, x, y)
    else:
        importance = reds.magnitude_importance(model)
    reds.permute_channels(model, importance)
    importance = reds.unit_importance(model, x, y) if FLAGS.data else reds.magnitude_importance(model)
    chosen = reds.plan(model, fractions, resource=resource, importance=importance, block_size=FLAGS.block_size,
                       min_units=FLAGS.min_units, latency_table=latency_table)
    print(chosen.table())
    print(f"knapsack: {chosen.seconds:.2f} s for {len(chosen.solutions)} budgets (HiGHS MILP)")
    print("blocks dropped as the budget shrinks (group: units [start, end)):")
    for k, step in enumerate(chosen.drop_order):
        level = len(chosen.solutions) - 2 - k
        print(f"  to level {level}: " + ", ".join(f"{g}[{a}:{b}]" for g, a, b in step))
    return 0


def _inspect(path: str) -> int:
    from keras_subnets.firmware import modelfile

    blob = modelfile.read(path)
    print(modelfile.format_description(modelfile.describe(blob), path))
    return 0


def _export_c(path: str) -> int:
    import os

    from keras_subnets.firmware import modelfile

    if not FLAGS.output:
        raise ValueError("export-c needs -o/--output FILE.cc")
    blob = modelfile.read(path)
    header_path = os.path.splitext(FLAGS.output)[0] + ".h"
    source, header = modelfile.export_c(blob, FLAGS.name, os.path.basename(header_path))
    try:
        with open(FLAGS.output, "w") as handle:
            handle.write(source)
        with open(header_path, "w") as handle:
            handle.write(header)
    except OSError as err:
        raise ValueError(f"cannot write '{err.filename}': {err.strerror}") from None
    ops = modelfile.ops_needed(blob)
    print(f"wrote {FLAGS.output} ({len(blob):,} bytes as {FLAGS.name}[]) and {header_path} "
          f"({FLAGS.name}_register_ops: {ops.count} operators: {', '.join([*ops.custom, *ops.builtin])})")
    defines = modelfile.firmware_defines(blob)
    if defines:
        print(f"build the keras-subnets sources with {' '.join(defines)} (only the kernels this file needs)")
    return 0


def _profile(path: str) -> int:
    from keras_subnets.firmware import profile

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = profile.profile(path, FLAGS.target, baseline=FLAGS.baseline, per_op=FLAGS.ops,
                             tflm_root=FLAGS.tflm_root, progress=progress)
    print(result.table(per_op=FLAGS.ops))
    if FLAGS.write:
        profile.write_counts(path, result)
        print(f"wrote instructions_{FLAGS.target} per level into {path}'s level table")
    if result.summary():
        print(f"summary: {result.summary()}")
    return 0


def command_help(command: str) -> str:
    """The --help text of one command: usage, description and its flags."""
    usage, text, names = HELP[command]
    lines = [f"usage: {usage}", "", text]
    if names:
        lines += ["", "flags:"]
        for name in names:
            flag = FLAGS[name]
            short = f"-{flag.short_name}, " if flag.short_name else ""
            default = "" if flag.default in (None, False, "") else f" (default: {flag.default_as_str})"
            lines.append(f"  {short}--{name}: {flag.help}{default}")
    lines += ["", VERBOSITY_HELP + "."]
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    usage = (f"usage: keras-subnets {{{','.join(COMMANDS)}}} [ARGS] [--flags]; "
             "keras-subnets COMMAND --help describes one")
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(usage, file=sys.stderr)
        return 2
    command, args = argv[1], argv[2:]
    expected = POSITIONAL[command]
    if len(args) != expected:
        print(f"{command} takes {expected} positional argument(s), got {args}\n{usage}", file=sys.stderr)
        return 2
    try:
        return {"demo": _demo, "convert": _convert, "knapsack": _knapsack, "inspect": _inspect,
                "export-c": _export_c, "profile": _profile}[command](*args)
    except ValueError as err:  # bad input: a clear message, no traceback
        print(f"keras-subnets {command}: {err}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # no TFLM tree, missing tools, a firmware that failed: said in one message
        from keras_subnets.firmware import build, runner

        if isinstance(err, (build.TflmNotFoundError, build.ToolchainMissingError, runner.FirmwareError)):
            print(f"keras-subnets {command}: {err}", file=sys.stderr)
            return 1
        raise


VERBOSITY_HELP = ("--verbosity N (-v N): absl's log level; also shows TensorFlow's C++ log lines, "
                  "hidden by default")


def overall_help() -> str:
    """The --help text of the tool: every command with its one-line purpose."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: keras-subnets COMMAND [ARGS] [--flags]", "", "commands:"]
    lines += [f"  {name:<{width}}  {HELP[name][1].split('. ')[0].rstrip('.')}." for name in COMMANDS]
    lines += ["", "keras-subnets COMMAND --help describes one command and its flags.", VERBOSITY_HELP + ".",
              "Every command runs on Keras' TensorFlow backend, whatever KERAS_BACKEND says."]
    return "\n".join(lines)


# A line of TensorFlow's C++ logging (absl / TSL format) or absl's notice that
# logging is not initialised yet; both bypass TF_CPP_MIN_LOG_LEVEL while
# TensorFlow is being imported.
_CPP_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] "
                           r"|WARNING: All log messages before absl::InitializeLog\(\) is called)")


def wants_cpp_logs(argv: list[str]) -> bool:
    """Whether the command line asks for TensorFlow's C++ log lines."""
    return any(arg in ("-v", "--v", "--verbosity") or arg.startswith(("--verbosity=", "--v=", "-v="))
               for arg in argv[1:])


@contextlib.contextmanager
def _without_cpp_log_lines():
    """Drops C++ log lines written to file descriptor 2 inside the block.

    Everything else written there (a Python warning, an import error) is
    written to stderr when the block ends.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not _CPP_LOG_LINE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_tensorflow(argv: list[str]) -> None:
    """Imports TensorFlow (and the package) without its C++ log lines.

    ``TF_CPP_MIN_LOG_LEVEL=2`` (unless the environment sets it) hides the
    notices TensorFlow logs while it runs; the lines it writes while loading
    and first listing its devices ignore that variable, so they are filtered
    out here. With ``--verbosity`` nothing is hidden.
    """
    if wants_cpp_logs(argv):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    with _without_cpp_log_lines():
        import tensorflow as tf

        tf.config.list_physical_devices()
        import keras_subnets  # noqa: F401  (Keras' backend, JAX or PyTorch ones included)


def run() -> None:
    """Console-script entry point."""
    argv = sys.argv
    asks_help = {"--help", "-h", "--helpshort", "help"} & set(argv[1:])
    if asks_help and len(argv) > 2 and argv[1] in HELP:
        print(command_help(argv[1]))
        sys.exit(0)
    if asks_help and (len(argv) == 2 or argv[1] not in HELP):
        print(overall_help())
        sys.exit(0)
    if len(argv) >= 2 and argv[1] in COMMANDS:
        # Conversion is TensorFlow's; the commands run on it whatever backend the shell selects.
        os.environ["KERAS_BACKEND"] = "tensorflow"
        quiet_tensorflow(argv)
    app.run(_main)


if __name__ == "__main__":
    run()
