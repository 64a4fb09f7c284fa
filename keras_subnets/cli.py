"""Command-line tools: ``keras-subnets <command> [--flags]``.

Commands:
    demo: train a nested model on Fashion-MNIST and print the per-level table.
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
flags.DEFINE_string("output", None, "Where to save the trained .keras model (demo).")

COMMANDS = ("demo",)


def _demo() -> int:
    from keras_subnets.demo import run_demo

    run_demo(
        levels=[float(s) for s in FLAGS.levels], kind=FLAGS.kind, pretrain_epochs=FLAGS.pretrain_epochs,
        epochs=FLAGS.epochs, batch_size=FLAGS.batch_size, train_samples=FLAGS.train_samples,
        test_samples=FLAGS.test_samples, output=FLAGS.output, verbose=2 if not sys.stdout.isatty() else 1,
    )
    return 0


def _main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(f"usage: keras-subnets {{{','.join(COMMANDS)}}} [--flags]; --helpfull lists the flags",
              file=sys.stderr)
        return 2
    if len(argv) > 2:
        print(f"unexpected arguments: {argv[2:]}", file=sys.stderr)
        return 2
    return {"demo": _demo}[argv[1]]()


def run() -> None:
    """Console-script entry point."""
    app.run(_main)


if __name__ == "__main__":
    run()
