# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""int8 accuracy of every level of one converted file against float Keras.

Quickstart CNN on full Fashion-MNIST, one model per mask kind (shared dense
pretraining, joint fine-tuning of levels 90/75/50/0 % sparsity), converted
into one int8 file each; every level runs in TFLite Micro's reference kernels
(`densify`) on the first --eval_samples test images and is compared with the
float Keras model on the same images. Target: within 1 point at every level.

    python -m benchmarks.int8_levels [--write]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("pretrain_epochs", 3, "Dense pretraining epochs.")
flags.DEFINE_integer("epochs", 3, "Joint fine-tuning epochs per kind.")
flags.DEFINE_integer("eval_samples", 2000, "Test images per level.")
flags.DEFINE_list("kinds", ["unstructured", "row", "block", "structured"], "Mask kinds.")
flags.DEFINE_integer("train_samples", None, "Shorten the training set (smoke runs).")
flags.DEFINE_bool("write", False, "Write the table to docs/benchmarks.md.")


def main(argv):
    del argv
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import keras
    import numpy as np

    import keras_subnets as ks
    from benchmarks.report import markdown_table, provenance, write_section
    from keras_subnets.convert import convert, densify
    from keras_subnets.convert.reference import run_tflm
    from keras_subnets.demo import load_scaled

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_scaled(FLAGS.train_samples)
    levels = [0.9, 0.75, 0.5, 0.0]
    base = ks.zoo.quickstart_cnn()
    base.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    base.fit(x_train, y_train, batch_size=128, epochs=FLAGS.pretrain_epochs, verbose=2)
    n = min(FLAGS.eval_samples, len(x_test))
    x_eval, y_eval = x_test[:n], y_test[:n]
    steps = int(np.ceil(len(x_train) / 128))
    rows = []
    for kind in FLAGS.kinds:
        model = ks.nest(base, levels, kind=kind)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        schedule = ks.schedules.PolynomialDecay(0.0, 0.9, 0, steps, frequency=max(1, steps // 10))
        model.fit(x_train, y_train, batch_size=128, epochs=FLAGS.epochs, verbose=2,
                  callbacks=[ks.MaskScheduler(schedule), ks.RecalibrateBatchNorm(x_train)])
        blob = convert(model, x_train[:300], quantize="int8")
        for k in range(len(levels)):
            with ks.level(model, k):
                float_acc = float(np.mean(np.argmax(model.predict(x_eval, verbose=0), 1) == y_eval))
            int8_acc = float(np.mean(np.argmax(run_tflm(densify(blob, k), x_eval), 1) == y_eval))
            rows.append([kind, str(k), f"{levels[k]:.0%}", f"{100 * float_acc:.2f}", f"{100 * int8_acc:.2f}",
                         f"{100 * (int8_acc - float_acc):+.2f}", f"{len(blob):,}"])
            print(rows[-1], flush=True)
    table = markdown_table(["kind", "level", "target sparsity", "float Keras acc.", "int8 TFLM acc.", "Δ",
                            "file bytes (all levels)"], rows)
    print(table)
    if FLAGS.write:
        body = (provenance() + f"\nQuickstart CNN, full Fashion-MNIST, {FLAGS.pretrain_epochs} dense + "
                f"{FLAGS.epochs} joint epochs per kind; int8 file calibrated over every level (300 training "
                f"images); first {n} test images; int8 run by TFLite Micro's reference kernels on the "
                "densified level (bit-exact with the KS_* kernels). Accuracy in %.\n\n" + table + "\n")
        write_section("int8_levels", "int8 vs float at every level", body)


if __name__ == "__main__":
    app.run(main)
