"""Command-line tools: ``keras-subnets <command> [--flags]``.

Commands:
    demo: train a nested model on Fashion-MNIST and print the per-level table.
    convert MODEL.keras -o MODEL.tflite [--quantize int8|float32] [--data fashion_mnist|FILE.npy]:
        one flatbuffer holding every level (see docs/format.md).
    knapsack MODEL.keras --budgets 0.25,0.5,0.75 [--resource macs|bytes|activations|TABLE.json]
        [--data fashion_mnist]: REDS's nested knapsack, widths per level and the block drop order.
"""

from __future__ import annotations

import sys

from absl import app, flags

FLAGS = flags.FLAGS

flags.DEFINE_list("levels", ["0.9", "0.75", "0.5", "0.0"], "Per-level sparsities, sparsest first.")
flags.DEFINE_enum("kind", "unstructured", ["unstructured", "row", "block", "structured"], "Mask kind.")
flags.DEFINE_integer("pretrain_epochs", 2, "Dense pretraining epochs (demo).")
flags.DEFINE_integer("epochs", 3, "Joint training epochs (demo).")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("train_samples", None, "Use only this many training images.")
flags.DEFINE_integer("test_samples", None, "Use only this many test images.")
flags.DEFINE_string("output", None, "Output file: the trained .keras model (demo) or the .tflite (convert).",
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

COMMANDS = ("demo", "convert", "knapsack")


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
    from keras_subnets.convert import convert_file, read_levels

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
    return 0


def _knapsack(path: str) -> int:
    import json
    import os

    import keras

    from keras_subnets import reds
    from keras_subnets.convert import plain_model
    from keras_subnets.models import SubnetModel

    try:
        model = keras.models.load_model(path)
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
    try:
        fractions = [float(b) for b in FLAGS.budgets]
    except ValueError:
        raise ValueError(f"--budgets must be numbers, got {FLAGS.budgets}") from None
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


def _main(argv: list[str]) -> int:
    usage = (f"usage: keras-subnets {{{','.join(COMMANDS)}}} [ARGS] [--flags]; --helpfull lists the flags")
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(usage, file=sys.stderr)
        return 2
    command, args = argv[1], argv[2:]
    expected = {"demo": 0, "convert": 1, "knapsack": 1}[command]
    if len(args) != expected:
        print(f"{command} takes {expected} positional argument(s), got {args}\n{usage}", file=sys.stderr)
        return 2
    try:
        return {"demo": _demo, "convert": _convert, "knapsack": _knapsack}[command](*args)
    except ValueError as err:  # bad input: a clear message, no traceback
        print(f"keras-subnets {command}: {err}", file=sys.stderr)
        return 1


def run() -> None:
    """Console-script entry point."""
    app.run(_main)


if __name__ == "__main__":
    run()
