"""Command-line tools: ``keras-subnets <command> [--flags]``.

Commands:
    demo: train a nested model on Fashion-MNIST and print the per-level table.
    convert MODEL.keras -o MODEL.tflite [--quantize int8|float32] [--data fashion_mnist|FILE.npy]:
        one flatbuffer holding every level (see docs/format.md).
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

COMMANDS = ("demo", "convert")


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


def _main(argv: list[str]) -> int:
    usage = (f"usage: keras-subnets {{{','.join(COMMANDS)}}} [ARGS] [--flags]; --helpfull lists the flags")
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(usage, file=sys.stderr)
        return 2
    command, args = argv[1], argv[2:]
    expected = {"demo": 0, "convert": 1}[command]
    if len(args) != expected:
        print(f"{command} takes {expected} positional argument(s), got {args}\n{usage}", file=sys.stderr)
        return 2
    try:
        return _demo() if command == "demo" else _convert(*args)
    except ValueError as err:  # bad input: a clear message, no traceback
        print(f"keras-subnets {command}: {err}", file=sys.stderr)
        return 1


def run() -> None:
    """Console-script entry point."""
    app.run(_main)


if __name__ == "__main__":
    run()
