# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""REDS's Fashion-MNIST experiment, end to end, against its published numbers.

DS-CNN S (vision, global average pooling) on full Fashion-MNIST: dense
pretraining → unit importance (Σ|W⊙G|, 100 batches) → function-preserving
permutation → nested knapsack (HiGHS MILP, MAC budgets 25/50/75/100 %) →
joint fine-tuning with per-level BatchNorm → int8 conversion into one file →
every level run in TFLite Micro. Also the knapsack for 10 levels.

    python -m benchmarks.reds_fashion_mnist [--pretrain_epochs 10 --epochs 20] [--write]
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("pretrain_epochs", 20, "Dense pretraining epochs.")
flags.DEFINE_integer("epochs", 10, "Joint fine-tuning epochs (REDS used 250 in total).")
flags.DEFINE_integer("average_last", 3, "Report the mean test accuracy of this many final epochs.")
flags.DEFINE_integer("train_samples", None, "Shorten the training set (smoke runs).")
flags.DEFINE_integer("eval_samples", 2000, "Test images run through the int8 file per level.")
flags.DEFINE_float("lr", 2e-3, "Peak Adam learning rate of the dense pretraining.")
flags.DEFINE_float("joint_lr", 1e-3, "Peak Adam learning rate of the joint fine-tuning.")
flags.DEFINE_enum("schedule", "cosine", ["cosine", "constant"],
                  "Learning-rate schedule of each phase (cosine: decays to 0 over the phase).")
flags.DEFINE_float("inner_gradient", 1.0, "SubnetModel inner_gradient of the joint fine-tuning (1 = plain "
                   "REDS routing).")
flags.DEFINE_bool("write", False, "Write the tables to docs/benchmarks.md.")

REDS_ACCURACY = {1.0: 91.60, 0.75: 91.51, 0.5: 90.75, 0.25: 89.22}
REDS_SIZE_KB = {1.0: 128.54, 0.75: 107.73, 0.5: 87.40, 0.25: 66.63}


def main(argv):
    del argv
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import keras
    import numpy as np

    from benchmarks.report import markdown_table
    from keras_subnets import knapsack as kn
    from keras_subnets.convert import convert
    from keras_subnets.demo import load_scaled

    keras.utils.set_random_seed(0)
    data = load_scaled(FLAGS.train_samples)
    (x_train, _), (x_test, _) = data
    total_epochs = FLAGS.pretrain_epochs + FLAGS.epochs
    print(f"DS-CNN S, Fashion-MNIST {len(x_train)}/{len(x_test)}; {FLAGS.pretrain_epochs} dense + "
          f"{FLAGS.epochs} joint epochs = {total_epochs}", flush=True)
    steps_per_epoch = int(np.ceil(len(x_train) / 128))
    base, dense_seconds, dense_acc = pretrain_dense(data, steps_per_epoch)
    work, chosen, ten, scoring_seconds = plan_levels(data, base)
    model, history, joint_seconds, final = train_jointly(data, work, chosen, steps_per_epoch)
    blob = convert(model, x_train[:300], quantize="int8", accuracy=[r["accuracy"] for r in final])
    n = min(FLAGS.eval_samples, len(x_test))
    header = ["MAC budget", "REDS acc. (250 ep.)", f"ours, test acc. ({total_epochs} ep.)",
              f"ours, mean last {FLAGS.average_last}", "Δ vs REDS", f"ours int8 in TFLM ({n} imgs)", "MACs",
              "MAC share", "weights", "REDS size KB", "ours: level as own int8 .tflite KB",
              "ours: weight KB read from the one file"]
    result = markdown_table(header, level_rows(data, model, history, final, blob, n))
    solve_table = knapsack_table(chosen, ten, scoring_seconds)
    print("\n" + result + "\n\n" + solve_table)
    print(f"\none int8 file for all 4 levels: {len(blob) / 1024:.2f} KB; dense model after pretraining "
          f"{100 * dense_acc:.2f} %; pretraining {dense_seconds:.0f} s, joint training {joint_seconds:.0f} s")
    if FLAGS.write:
        write_reds_section(result, solve_table, ten, len(blob), dense_acc)
    del kn


def _adam(peak: float, epochs: int, steps_per_epoch: int):
    """Adam at ``peak`` learning rate, with --schedule over a phase of ``epochs``."""
    import keras

    if FLAGS.schedule == "constant":
        return keras.optimizers.Adam(peak)
    # Cosine decay to zero over the phase: the last epochs average out the noise of a constant rate.
    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(peak, max(1, epochs * steps_per_epoch)))


def pretrain_dense(data, steps_per_epoch: int):
    """Dense DS-CNN S pretrained --pretrain_epochs: the model, its training seconds and test accuracy."""
    import keras_subnets as ks

    (x_train, y_train), (x_test, y_test) = data
    base = ks.zoo.ds_cnn_s()
    base.compile(_adam(FLAGS.lr, FLAGS.pretrain_epochs, steps_per_epoch), "sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    start = time.perf_counter()
    base.fit(x_train, y_train, batch_size=128, epochs=FLAGS.pretrain_epochs, verbose=2)
    dense_seconds = time.perf_counter() - start
    return base, dense_seconds, float(base.evaluate(x_test, y_test, verbose=0)[1])


def plan_levels(data, base):
    """The knapsack on its own, timed (importance, permutation, MILP): the permuted copy of ``base``, the
    4-level and 10-level plans and the scoring seconds."""
    import keras

    from keras_subnets import reds

    (x_train, y_train), _ = data
    t0 = time.perf_counter()
    work = keras.models.clone_model(base)
    work.set_weights(base.get_weights())
    work.compile("sgd", "sparse_categorical_crossentropy")
    importance = reds.unit_importance(work, x_train, y_train, batches=100)
    reds.permute_channels(work, importance)
    importance = reds.unit_importance(work, x_train, y_train, batches=100)
    scoring_seconds = time.perf_counter() - t0
    chosen = reds.plan(work, (0.25, 0.5, 0.75), importance=importance)
    print(chosen.table(), flush=True)
    ten = reds.plan(work, [k / 10 for k in range(1, 10)], importance=importance)
    print(ten.table(), flush=True)
    return work, chosen, ten, scoring_seconds


def train_jointly(data, work, chosen, steps_per_epoch: int):
    """REDS's joint fine-tuning of the nested structured levels, every level evaluated after each epoch
    (recalibrated on a copy of the statistics); the model, the history, the seconds and the final levels."""
    import keras

    import keras_subnets as ks

    (x_train, y_train), (x_test, y_test) = data
    model = ks.nest(work, chosen.sparsities, kind="structured", widths=chosen.widths,
                    inner_gradient=FLAGS.inner_gradient)
    model.compile(_adam(FLAGS.joint_lr, FLAGS.epochs, steps_per_epoch), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = []

    class Track(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved = [v.numpy() for v in model.non_trainable_variables]
            ks.recalibrate_batch_norm(model, x_train)
            rows = ks.evaluate_levels(model, x_test, y_test, print_table=False, batch_size=512)
            history.append([r["accuracy"] for r in rows])
            for v, value in zip(model.non_trainable_variables, saved, strict=True):
                v.assign(value)
            print(f"  joint epoch {epoch + 1}: " + " / ".join(f"{100 * a:.2f}" for a in history[-1]), flush=True)

    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=FLAGS.epochs, verbose=2,
              callbacks=[Track(), ks.RecalibrateBatchNorm(x_train)])
    joint_seconds = time.perf_counter() - start
    return model, history, joint_seconds, ks.evaluate_levels(model, x_test, y_test)


def level_rows(data, model, history, final, blob: bytes, n: int) -> list[list[str]]:
    """One row per MAC budget: REDS's figures against ours (Keras, int8 in TFLM on ``n`` test images, sizes)."""
    import numpy as np

    from keras_subnets.convert import densify, read_levels
    from keras_subnets.convert.export import sliced_model
    from keras_subnets.convert.reference import run_tflm
    from keras_subnets.convert.tf_convert import tf_convert

    (x_train, _), (x_test, y_test) = data
    table = read_levels(blob)["levels"]
    samples = [s[None] for s in x_train[:64]]
    rows = []
    fractions = [0.25, 0.5, 0.75, 1.0]
    for k, fraction in enumerate(fractions):
        separate = len(tf_convert(sliced_model(model, k), samples))
        int8 = run_tflm(densify(blob, k), x_test[:n])
        int8_acc = float(np.mean(np.argmax(int8, axis=1) == y_test[:n]))
        tail = 100 * statistics.fmean(h[k] for h in history[-FLAGS.average_last:])
        rows.append([f"{fraction:.0%}", f"{REDS_ACCURACY[fraction]:.2f}", f"{100 * final[k]['accuracy']:.2f}",
                     f"{tail:.2f}", f"{100 * final[k]['accuracy'] - REDS_ACCURACY[fraction]:+.2f}",
                     f"{100 * int8_acc:.2f}", f"{final[k]['macs']:,}",
                     f"{final[k]['macs'] / final[-1]['macs']:.1%}", f"{final[k]['nonzeros']:,}",
                     f"{REDS_SIZE_KB[fraction]:.2f}", f"{separate / 1024:.2f}",
                     f"{table[k]['bytes_read'] / 1024:.2f}"])
    return rows


def knapsack_table(chosen, ten, scoring_seconds: float) -> str:
    """The knapsack's cost and quality for the 4-level and the 10-level plans."""
    from benchmarks.report import markdown_table

    solve_rows = [[f"{len(chosen.solutions)} levels", f"{scoring_seconds:.1f}", f"{chosen.seconds:.2f}",
                   f"{max((s.gap or 0.0) for s in chosen.solutions):.1e}",
                   f"{sum(s.value for s in chosen.solutions):.4g}", f"{sum(g.value for g in chosen.greedy if g):.4g}"],
                  [f"{len(ten.solutions)} levels", "", f"{ten.seconds:.2f}",
                   f"{max((s.gap or 0.0) for s in ten.solutions):.1e}",
                   f"{sum(s.value for s in ten.solutions):.4g}", f"{sum(g.value for g in ten.greedy if g):.4g}"]]
    return markdown_table(["knapsack", "importance + permutation s", "MILP s (all budgets)",
                           "worst MILP gap", "Σ value MILP", "Σ value greedy"], solve_rows)


def write_reds_section(result: str, solve_table: str, ten, blob_bytes: int, dense_acc: float) -> None:
    """Writes the tables with the protocol into docs/benchmarks.md's section "reds_fashion_mnist"."""
    from benchmarks.report import provenance, write_section

    body = (provenance() + "\n"
            f"DS-CNN S (vision, global average pooling), full Fashion-MNIST, {FLAGS.pretrain_epochs} dense "
            f"epochs then {FLAGS.epochs} joint epochs of 4 nested structured levels (per-level BatchNorm, "
            f"recalibrated; REDS loss weights; inner_gradient {FLAGS.inner_gradient:g}), "
            f"Adam with a {FLAGS.schedule} learning rate from {FLAGS.lr:g} (dense) "
            f"and {FLAGS.joint_lr:g} (joint), batch 128, seed 0. REDS's figures are the "
            "published ones (250 epochs, Gurobi knapsack, 19 min search). Test accuracy in %. "
            f"One int8 file holds all four levels: {blob_bytes / 1024:.2f} KB "
            f"(REDS stores one model and rewrites shapes in RAM). Dense model after pretraining: "
            f"{100 * dense_acc:.2f} %.\n\n" + result + "\n\nKnapsack (MAC budgets; widths per level "
            "in the 4-level table printed by the script; REDS's search took 19 minutes):\n\n"
            + solve_table + "\n\n10-level knapsack (10 % steps), widths per level:\n\n```\n" + ten.table()
            + "\n```\n")
    write_section("reds_fashion_mnist", "REDS on Fashion-MNIST (DS-CNN S)", body)


if __name__ == "__main__":
    app.run(main)
