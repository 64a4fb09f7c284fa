# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""One nested model against individually trained tfmot models, Fashion-MNIST.

Protocol (everything measured in this one run):
1. Pretrain the quickstart CNN dense for --pretrain_epochs (Keras 3).
2. Nested: `ks.nest` the pretrained model once per mask kind with levels
   --levels + dense, fine-tune --epochs with a MaskScheduler
   (PolynomialDecay over the first --ramp_epochs).
3. Individual: for each sparsity, the same pretrained weights in the same
   architecture built with tf_keras, tfmot `prune_low_magnitude` with the same
   schedule and the same --epochs (run in a child process: tfmot needs Keras 2);
   the dense reference is the pretrained model fine-tuned --epochs in Keras 3.
Accuracy is test accuracy at the end of each epoch; the table reports the
mean over the last --average_last epochs (single evaluations of small
BatchNorm nets swing by points between epochs) and the final value.

    python -m benchmarks.nested_vs_individual [--epochs 10] [--write]

With ``--model resnet8`` or ``--model mobilenet_v2`` (issue 15): the zoo model
on Fashion-MNIST zero-padded to 32x32, pretrained dense once, then REDS
structured levels at the MAC budgets --budgets (importance, permutation,
knapsack, joint fine-tuning) and nested unstructured levels --levels, each
against the same architecture at the same level trained alone for the same
epochs from the same pretrained weights: a one-level `ks.nest` (magnitude
masks, the same sparsity ramp) for unstructured, the level sliced into a
smaller plain Keras model (`sliced_model`, before the joint training) for
REDS, the pretrained dense model fine-tuned for the full level. Every model is
evaluated once at the end on the whole test set after BatchNorm
recalibration; --cortex_m4 adds each nested file's whole-model Invoke()
instructions per level (QEMU, needs a TFLM tree).

    python -m benchmarks.nested_vs_individual --model resnet8 --train_samples 3000 \
        --pretrain_epochs 5 --epochs 3 --ramp_epochs 1 --cortex_m4 --write
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("pretrain_epochs", 5, "Dense pretraining epochs.")
flags.DEFINE_integer("epochs", 10, "Fine-tuning epochs per model.")
flags.DEFINE_integer("ramp_epochs", 2, "Epochs over which sparsity grows.")
flags.DEFINE_integer("average_last", 3, "Report the mean accuracy of this many final epochs.")
flags.DEFINE_list("levels", ["0.9", "0.75", "0.5"], "Sparsities (the dense level is added).")
flags.DEFINE_list("kinds", ["unstructured", "row"], "Nested mask kinds to train.")
flags.DEFINE_float("inner_gradient", 1.0, "SubnetModel inner_gradient: share of a level's gradient reaching "
                   "smaller levels' weights (1 = plain routing).")
flags.DEFINE_float("shared_gradient", 1.0, "SubnetModel shared_gradient: the same share for layers dense in "
                   "every level (the depthwise layers unless --prune_depthwise).")
flags.DEFINE_bool("prune_depthwise", False, "Also nest DepthwiseConv2D layers. tfmot's prune_low_magnitude "
                  "leaves them dense, so by default the nested models prune exactly the layers tfmot prunes.")
flags.DEFINE_list("level_weights", None, "Loss weight per level, sparsest first (default REDS's sqrt weights).")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("train_samples", None, "Shorten the training set (smoke runs).")
flags.DEFINE_integer("test_samples", None, "Zoo models: shorten the test set (smoke runs; the table is measured "
                     "on the full test set).")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_bool("write", False, "Write the table to docs/benchmarks.md.")
flags.DEFINE_enum("model", "quickstart", ["quickstart", "resnet8", "mobilenet_v2"],
                  "quickstart: nested vs tfmot (28x28). resnet8 / mobilenet_v2: nested unstructured and REDS "
                  "structured levels vs the same levels trained alone, Fashion-MNIST padded to 32x32.")
flags.DEFINE_list("budgets", ["0.25", "0.5", "0.75"], "REDS MAC budgets (zoo models; the full network is added).")
flags.DEFINE_integer("importance_batches", 20, "Batches scoring REDS's unit importance (zoo models).")
flags.DEFINE_integer("recalibration_batches", 10, "Batches of 256 for BatchNorm recalibration (zoo models).")
flags.DEFINE_bool("cortex_m4", False, "Zoo models: whole-model Cortex-M4 Invoke() instructions of each nested "
                  "int8 file per level (QEMU; needs a TFLM tree).")
flags.DEFINE_string("tfmot_worker", None, "Internal: JSON job for the tf_keras/tfmot child process.")


def plain_recalibrate(model, x, batch_size: int = 256, max_batches: int = 40) -> None:
    """BatchNorm recalibration for plain Keras 3 / tf_keras models (the baselines).

    The same estimate `ks.recalibrate_batch_norm` makes for nested levels,
    so both sides of the comparison get settled statistics.
    """
    bns = [la for la in model.layers if type(la).__name__ == "BatchNormalization"]
    saved = [bn.momentum for bn in bns]
    for t, start in enumerate(range(0, min(len(x), batch_size * max_batches), batch_size), start=1):
        for bn in bns:
            bn.momentum = 1.0 - 1.0 / t
        model(x[start:start + batch_size], training=True)
    for bn, momentum in zip(bns, saved, strict=True):
        bn.momentum = momentum


class EpochClock:
    """Collects wall time per epoch and test accuracy per epoch (per level)."""

    def __init__(self):
        self.seconds: list[float] = []

    def start(self):
        self._t = time.perf_counter()

    def stop(self):
        self.seconds.append(time.perf_counter() - self._t)


def _tfmot_worker(job: dict) -> None:
    """Child process: prune the pretrained model with tfmot at one sparsity."""
    import numpy as np
    import tensorflow_model_optimization as tfmot  # sets TF_USE_LEGACY_KERAS=1
    import tf_keras

    from keras_subnets import zoo
    from keras_subnets.demo import load_scaled

    tf_keras.utils.set_random_seed(job["seed"])
    (x_train, y_train), (x_test, y_test) = load_scaled(job["train_samples"])
    model = zoo.quickstart_cnn(api=tf_keras)
    weights = np.load(job["weights"])
    model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
    steps = int(np.ceil(len(x_train) / job["batch_size"]))
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        0.0, job["sparsity"], begin_step=0, end_step=steps * job["ramp_epochs"], frequency=job["frequency"])
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    pruned.compile(tf_keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    clock, accuracy = EpochClock(), []

    class Track(tf_keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.start()

        def on_epoch_end(self, epoch, logs=None):
            clock.stop()
            moving = float(pruned.evaluate(x_test, y_test, verbose=0, batch_size=512)[1])
            stripped = tfmot.sparsity.keras.strip_pruning(pruned)  # a copy: training state untouched
            stripped.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
            plain_recalibrate(stripped, x_train)
            accuracy.append({"moving": moving,
                             "recalibrated": float(stripped.evaluate(x_test, y_test, verbose=0, batch_size=512)[1])})
            print(f"tfmot {job['sparsity']:.2f} epoch {epoch + 1}: test accuracy {accuracy[-1]}",
                  file=sys.stderr, flush=True)

    pruned.fit(x_train, y_train, batch_size=job["batch_size"], epochs=job["epochs"], verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep(), Track()])
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    kernels = [w for layer in stripped.layers for w in layer.get_weights()[:1]
               if layer.__class__.__name__ in ("Conv2D", "DepthwiseConv2D", "Dense")]
    zeros = sum(int((k == 0).sum()) for k in kernels) / sum(k.size for k in kernels)
    for layer in stripped.layers:
        if layer.__class__.__name__ in ("Conv2D", "DepthwiseConv2D", "Dense"):
            kernel = layer.get_weights()[0]
            print(f"tfmot {job['sparsity']:.2f} {layer.name}: {(kernel == 0).mean():.1%} zeros", file=sys.stderr)
    print(json.dumps({"accuracy": accuracy, "seconds": clock.seconds, "kernel_sparsity": zeros}))


def _run_tfmot(job: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", __spec__.name, f"--tfmot_worker={json.dumps(job)}"],
                          cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, stderr=None, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tfmot run at sparsity {job['sparsity']} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    if FLAGS.tfmot_worker:
        _tfmot_worker(json.loads(FLAGS.tfmot_worker))
        return
    if FLAGS.model != "quickstart":
        zoo_main()
        return
    quickstart_main()


def _sparsities_and_levels() -> tuple[list[float], list[float]]:
    """--levels' sparsities, sparsest first, and the nested levels (the dense level added)."""
    sparsities = sorted({float(s) for s in FLAGS.levels if float(s) > 0}, reverse=True)
    return sparsities, sparsities + [0.0]


def _mask_frequency(steps: int) -> int:
    """Masks are recomputed every 100 steps as tfmot's default, more often for short runs."""
    return max(1, min(100, steps * FLAGS.ramp_epochs // 10))


def quickstart_main() -> None:
    """The quickstart CNN: nested levels vs individually trained tfmot models (steps 1-3 of the protocol)."""
    import keras
    import numpy as np

    from benchmarks.report import markdown_table
    from keras_subnets.demo import load_scaled

    sparsities, levels = _sparsities_and_levels()
    keras.utils.set_random_seed(FLAGS.seed)
    data = load_scaled(FLAGS.train_samples)
    (x_train, _), (x_test, _) = data
    steps = int(np.ceil(len(x_train) / FLAGS.batch_size))
    frequency = _mask_frequency(steps)
    print(f"Fashion-MNIST {len(x_train)} train / {len(x_test)} test; pretraining {FLAGS.pretrain_epochs} epochs")
    pretrained, weights_file = pretrain_quickstart(data)
    dense_seconds, dense_acc = train_dense_reference(data, pretrained)
    nested = {kind: train_nested_quickstart(data, pretrained, kind, sparsities, steps, frequency)
              for kind in FLAGS.kinds}
    individual = train_tfmot_individually(sparsities, weights_file, frequency)
    table = markdown_table(*quickstart_accuracy_table(levels, dense_acc, nested, individual))
    timing_table = markdown_table(["training", "median s/epoch", "ratio to dense", "total s"],
                                  quickstart_timing_rows(levels, sparsities, dense_seconds, nested, individual))
    print("\n" + table + "\n\n" + timing_table)
    if FLAGS.write:
        write_quickstart_section(table, timing_table)


def pretrain_quickstart(data) -> tuple[list, Path]:
    """Step 1: the dense quickstart CNN pretrained; its weights, also saved for the tfmot child processes."""
    import keras
    import numpy as np

    import keras_subnets as ks

    (x_train, y_train), _ = data
    base = ks.zoo.quickstart_cnn()
    base.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    base.fit(x_train, y_train, batch_size=FLAGS.batch_size, epochs=FLAGS.pretrain_epochs, verbose=2)
    workdir = Path(tempfile.mkdtemp(prefix="ks_bench_"))
    weights_file = workdir / "pretrained.npz"
    np.savez(weights_file, **{f"w{i}": w for i, w in enumerate(base.get_weights())})
    return base.get_weights(), weights_file


def tracked_fit(data, model, callbacks, evaluate) -> tuple[list[float], list]:
    """Fine-tunes ``model`` --epochs; wall seconds per epoch and ``evaluate()`` after each epoch."""
    import keras

    (x_train, y_train), _ = data
    clock, accuracy = EpochClock(), []

    class Track(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.start()

        def on_epoch_end(self, epoch, logs=None):
            clock.stop()
            accuracy.append(evaluate())
            print(f"  epoch {epoch + 1}: {accuracy[-1]}", flush=True)

    model.fit(x_train, y_train, batch_size=FLAGS.batch_size, epochs=FLAGS.epochs, verbose=0,
              callbacks=[*callbacks, Track()])
    return clock.seconds, accuracy


def train_dense_reference(data, pretrained) -> tuple[list[float], list[dict]]:
    """The dense reference: the pretrained model fine-tuned --epochs in Keras 3."""
    import keras

    import keras_subnets as ks

    (x_train, _), (x_test, y_test) = data
    print(f"Dense reference: fine-tuning {FLAGS.epochs} epochs")
    dense = ks.zoo.quickstart_cnn()
    dense.set_weights(pretrained)
    dense.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    def evaluate_dense():
        moving = float(dense.evaluate(x_test, y_test, verbose=0, batch_size=512)[1])
        saved = [v.numpy() for v in dense.non_trainable_variables]
        plain_recalibrate(dense, x_train)
        recalibrated = float(dense.evaluate(x_test, y_test, verbose=0, batch_size=512)[1])
        for v, value in zip(dense.non_trainable_variables, saved, strict=True):
            v.assign(value)
        return {"moving": moving, "recalibrated": recalibrated}

    return tracked_fit(data, dense, [], evaluate_dense)


def train_nested_quickstart(data, pretrained, kind: str, sparsities: list[float], steps: int, frequency: int) -> dict:
    """Step 2 for one mask kind: the pretrained model nested at ``sparsities`` + dense, fine-tuned --epochs."""
    import keras

    import keras_subnets as ks

    (x_train, _), (x_test, y_test) = data
    levels = sparsities + [0.0]
    print(f"Nested '{kind}' levels {levels}: fine-tuning {FLAGS.epochs} epochs")
    start = ks.zoo.quickstart_cnn()
    start.set_weights(pretrained)
    options = {"inner_gradient": FLAGS.inner_gradient, "shared_gradient": FLAGS.shared_gradient}
    if FLAGS.level_weights:
        options["level_weights"] = [float(w) for w in FLAGS.level_weights]
    if not FLAGS.prune_depthwise:
        options["layers"] = ks.tfmot_prunable_layers(start)
    model = ks.nest(start, levels, kind=kind, **options)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    schedule = ks.schedules.PolynomialDecay(0.0, sparsities[0], begin_step=0,
                                            end_step=steps * FLAGS.ramp_epochs, frequency=frequency)
    def evaluate(m=model):
        def accuracies():
            rows = ks.evaluate_levels(m, x_test, y_test, print_table=False, batch_size=512)
            return [r["accuracy"] for r in rows]

        moving = accuracies()
        # The library's recalibration, applied to a copy of the statistics so
        # training continues from the moving averages as it would without it.
        saved = [v.numpy() for v in m.non_trainable_variables]
        ks.recalibrate_batch_norm(m, x_train, batch_size=256, max_batches=40)
        recalibrated = accuracies()
        for v, value in zip(m.non_trainable_variables, saved, strict=True):
            v.assign(value)
        return {"moving": moving, "recalibrated": recalibrated}

    seconds, acc = tracked_fit(data, model, [ks.MaskScheduler(schedule)], evaluate)
    costs = [ks.level_costs(model, k) for k in range(len(levels))]
    return {"seconds": seconds, "accuracy": [a["recalibrated"] for a in acc],
            "moving": [a["moving"] for a in acc], "costs": costs}


def train_tfmot_individually(sparsities: list[float], weights_file: Path, frequency: int) -> dict[float, dict]:
    """Step 3: tfmot's prune_low_magnitude at each sparsity, each in a child process (tfmot needs Keras 2)."""
    individual = {}
    for s in sparsities:
        print(f"Individual tfmot prune_low_magnitude at {s:.0%}: fine-tuning {FLAGS.epochs} epochs")
        individual[s] = _run_tfmot({
            "sparsity": s, "weights": str(weights_file), "epochs": FLAGS.epochs, "seed": FLAGS.seed,
            "ramp_epochs": FLAGS.ramp_epochs, "batch_size": FLAGS.batch_size,
            "train_samples": FLAGS.train_samples, "frequency": frequency,
        })
    return individual


def _tail(values) -> float:
    """Mean of the last --average_last values, in %."""
    return 100 * statistics.fmean(values[-FLAGS.average_last:])


def quickstart_accuracy_table(levels, dense_acc, nested, individual) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the accuracy table: per level, the individual model against each nested kind."""
    n = FLAGS.average_last
    header = ["sparsity", f"individual tfmot (mean last {n} / final)"]
    header += [f"nested {k} (mean last {n} / final)" for k in FLAGS.kinds]
    header += [f"Δ {k} (mean)" for k in FLAGS.kinds]
    header += [f"individual, moving BN stats (mean last {n})"]
    header += [f"nested {k}, moving BN stats (mean last {n})" for k in FLAGS.kinds]
    rows = []
    for k, s in enumerate(levels):
        if s == 0.0:
            ref_both, ref_label = dense_acc, "dense Keras 3"
        else:
            ref_both = individual[s]["accuracy"]
            ref_label = f"{100 * individual[s]['kernel_sparsity']:.1f} % zeros"
        ref = [a["recalibrated"] for a in ref_both]
        ref_moving = [a["moving"] for a in ref_both]
        row = [f"{s:.0%}", f"{_tail(ref):.2f} / {100 * ref[-1]:.2f} ({ref_label})"]
        per_kind = [[acc[k] for acc in nested[kind]["accuracy"]] for kind in FLAGS.kinds]
        row += [f"{_tail(v):.2f} / {100 * v[-1]:.2f} ({100 * nested[kind]['costs'][k]['sparsity']:.1f} % zeros)"
                for v, kind in zip(per_kind, FLAGS.kinds, strict=True)]
        row += [f"{_tail(v) - _tail(ref):+.2f}" for v in per_kind]
        row += [f"{_tail(ref_moving):.2f}"]
        row += [f"{_tail([acc[k] for acc in nested[kind]['moving']]):.2f}" for kind in FLAGS.kinds]
        rows.append(row)
    return header, rows


def quickstart_timing_rows(levels, sparsities, dense_seconds, nested, individual) -> list[list[str]]:
    """Rows of the training-time table: median s/epoch, ratio to dense and total s of every model."""
    dense_epoch = statistics.median(dense_seconds)
    timing = [["dense Keras 3 (1 model)", f"{dense_epoch:.1f}", "1.00", f"{sum(dense_seconds):.0f}"]]
    for kind in FLAGS.kinds:
        sec = nested[kind]["seconds"]
        timing.append([f"nested {kind} ({len(levels)} levels, 1 model)", f"{statistics.median(sec):.1f}",
                       f"{statistics.median(sec) / dense_epoch:.2f}", f"{sum(sec):.0f}"])
    tf_total = 0.0
    for s in sparsities:
        sec = individual[s]["seconds"]
        tf_total += sum(sec)
        timing.append([f"tfmot {s:.0%} (1 model)", f"{statistics.median(sec):.1f}",
                       f"{statistics.median(sec) / dense_epoch:.2f}", f"{sum(sec):.0f}"])
    timing.append([f"individual total ({len(sparsities)} tfmot + dense)", "", "",
                   f"{tf_total + sum(dense_seconds):.0f}"])
    return timing


def write_quickstart_section(table: str, timing_table: str) -> None:
    """Writes the tables with the protocol into docs/benchmarks.md's section "nested_vs_individual"."""
    from benchmarks.report import provenance, write_section

    body = (
        provenance() + "\n"
        f"Quickstart CNN (`keras_subnets.zoo.quickstart_cnn`), full Fashion-MNIST, "
        f"{FLAGS.pretrain_epochs} dense pretraining epochs shared by all, then {FLAGS.epochs} fine-tuning "
        f"epochs per model; sparsity ramps over {FLAGS.ramp_epochs} epochs (PolynomialDecay, "
        f"power 3); Adam 1e-3, batch {FLAGS.batch_size}, seed {FLAGS.seed}. Nested models: "
        f"inner_gradient={FLAGS.inner_gradient:g}, shared_gradient={FLAGS.shared_gradient:g}, level weights "
        f"{FLAGS.level_weights or 'REDS sqrt (default)'}, "
        + ("every weight layer nested" if FLAGS.prune_depthwise else
           "only the Conv2D and Dense layers nested: tfmot's prune_low_magnitude leaves DepthwiseConv2D "
           "dense (its stripped depthwise kernels have 0 % zeros), so both prune the same layers")
        + ". "
        "Test accuracy in %. Every "
        "model is evaluated after BatchNorm recalibration (exact statistics from 40 training batches; "
        "`ks.recalibrate_batch_norm` per level for nested models, the same estimate for the Keras 3 "
        "and tfmot baselines); the last columns show all models with their raw moving averages.\n\n"
        + table + "\n\nTraining time (wall clock, this machine, same run):\n\n" + timing_table + "\n"
    )
    write_section("nested_vs_individual", "Nested levels vs individually trained tfmot models", body)


ZOO_NAMES = {"resnet8": "ResNet-8", "mobilenet_v2": "MobileNetV2-0.35"}


def pad32(x):
    """Fashion-MNIST's 28x28 images zero-padded (2 pixels a side) to the 32x32 the zoo models take."""
    import numpy as np

    return np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))


def cortex_m4_instructions(model, x_calibration, x_image) -> list[int] | str:
    """Whole-model Invoke() instructions per level of ``model``'s int8 file on Cortex-M4, or why not measured."""
    try:
        from keras_subnets.convert import convert
        from keras_subnets.firmware import runner

        blob = convert(model, x_calibration, quantize="int8", num_calibration_samples=len(x_calibration),
                       progress=False)
        res = runner.run(blob, "m4", x_image, timeout=1200.0)
        return [res.invoke_instructions[k][0] for k in sorted(res.invoke_instructions)]
    except Exception as err:  # noqa: BLE001 - the accuracy table stands without the device counts
        # The full message (it may name local paths) goes to the log, the table names the failure only.
        print(f"Cortex-M4 not measured: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        return f"not measured ({type(err).__name__})"


def plain_m4_instructions(model, x_calibration, x_image) -> int | str:
    """Whole-model Invoke() instructions of the plain int8 file users ship today (TensorFlow's converter, stock
    TFLM + CMSIS-NN) on Cortex-M4, or why not measured."""
    try:
        from keras_subnets.convert.tf_convert import tf_convert
        from keras_subnets.firmware import runner

        blob = tf_convert(model, [c[None] for c in x_calibration])
        return runner.run(blob, "m4", x_image, timeout=600.0).invoke_instructions[0][0]
    except Exception as err:  # noqa: BLE001 - as cortex_m4_instructions
        print(f"Cortex-M4 plain not measured: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        return f"not measured ({type(err).__name__})"


class ZooRun:
    """The data, the pretrained model, the wall time of each step and the training helpers of a zoo run."""

    def __init__(self, data, steps: int, frequency: int):
        (self.x_train, self.y_train), (self.x_test, self.y_test) = data
        self.steps, self.frequency = steps, frequency
        self.seconds: dict[str, float] = {}
        self.base = None
        self.pretrained = None
        self.dense = None  # the full level trained alone: the plain model users would ship

    def build(self):
        """A fresh --model for 32x32x1 inputs."""
        import keras_subnets as ks

        return getattr(ks.zoo, FLAGS.model)(input_shape=(32, 32, 1))

    def compile_(self, model):
        import keras

        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fresh(self):
        """A new --model holding the pretrained weights."""
        model = self.build()
        model.set_weights(self.pretrained)
        return model

    def fit(self, label: str, model, callbacks=(), epochs: int | None = None) -> None:
        """Trains ``model`` (--epochs unless ``epochs``), its wall time recorded under ``label``."""
        print(f"{label}: {epochs or FLAGS.epochs} epochs", flush=True)
        start = time.perf_counter()
        model.fit(self.x_train, self.y_train, batch_size=FLAGS.batch_size, epochs=epochs or FLAGS.epochs,
                  verbose=2, callbacks=list(callbacks))
        self.seconds[label] = time.perf_counter() - start

    def plain_accuracy(self, model) -> float:
        """Test accuracy of a plain model after BatchNorm recalibration."""
        plain_recalibrate(model, self.x_train, max_batches=FLAGS.recalibration_batches)
        return float(model.evaluate(self.x_test, self.y_test, verbose=0, batch_size=500)[1])

    def level_accuracies(self, model) -> list[float]:
        """Test accuracy of every level of a nested model after per-level BatchNorm recalibration."""
        import keras_subnets as ks

        ks.recalibrate_batch_norm(model, self.x_train, batch_size=256, max_batches=FLAGS.recalibration_batches)
        rows = ks.evaluate_levels(model, self.x_test, self.y_test, print_table=False, batch_size=500)
        return [r["accuracy"] for r in rows]

    def schedule_to(self, sparsity: float):
        """The MaskScheduler ramping the masks to ``sparsity`` over --ramp_epochs."""
        import keras_subnets as ks

        return ks.MaskScheduler(ks.schedules.PolynomialDecay(
            0.0, sparsity, begin_step=0, end_step=self.steps * FLAGS.ramp_epochs, frequency=self.frequency))


def _nest_options() -> dict:
    """`ks.nest` options of the nested zoo models from the flags."""
    options = {"inner_gradient": FLAGS.inner_gradient, "shared_gradient": FLAGS.shared_gradient}
    if FLAGS.level_weights:
        options["level_weights"] = [float(w) for w in FLAGS.level_weights]
    return options


def zoo_main():
    """ResNet-8 / MobileNetV2-0.35: nested unstructured and REDS levels vs the same levels trained alone."""
    import keras
    import numpy as np

    from keras_subnets.demo import load_scaled

    sparsities, levels = _sparsities_and_levels()
    budgets = sorted({float(b) for b in FLAGS.budgets if 0 < float(b) < 1})
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test) = load_scaled(FLAGS.train_samples, FLAGS.test_samples)
    x_train, x_test = pad32(x_train), pad32(x_test)
    steps = int(np.ceil(len(x_train) / FLAGS.batch_size))
    run = ZooRun(((x_train, y_train), (x_test, y_test)), steps, _mask_frequency(steps))
    print(f"{ZOO_NAMES[FLAGS.model]}, Fashion-MNIST padded to 32x32: {len(x_train)} train / {len(x_test)} test",
          flush=True)
    pretrain_zoo(run)
    dense = train_dense_alone(run)
    unstructured = train_unstructured(run, sparsities, levels)
    structured = train_reds(run, budgets)
    m4 = {}
    if FLAGS.cortex_m4:
        publish_zoo(run, levels, budgets, dense, unstructured, structured, m4)  # the device counts take minutes
        measure_cortex_m4(run, {"unstructured": unstructured["model"], "REDS": structured["model"]}, m4)
    publish_zoo(run, levels, budgets, dense, unstructured, structured, m4)


def pretrain_zoo(run: ZooRun) -> None:
    """The dense model pretrained --pretrain_epochs, shared by every model of the run."""
    run.base = run.compile_(run.build())
    run.fit("dense pretraining", run.base, epochs=FLAGS.pretrain_epochs)
    run.pretrained = run.base.get_weights()


def train_dense_alone(run: ZooRun) -> tuple[float, int]:
    """The full level trained alone (of both kinds): the pretrained model fine-tuned; accuracy and MACs."""
    import keras_subnets as ks

    dense = run.compile_(run.fresh())
    run.fit("dense fine-tuning (individual, full network)", dense)
    run.dense = dense
    return run.plain_accuracy(dense), ks.level_costs(dense, 0)["macs"]


def train_unstructured(run: ZooRun, sparsities: list[float], levels: list[float]) -> dict:
    """Nested unstructured levels, then each sparsity trained alone (a one-level nest, the same ramp)."""
    import keras_subnets as ks

    nested = run.compile_(ks.nest(run.fresh(), levels, kind="unstructured", **_nest_options()))
    run.fit("nested unstructured (4 levels)", nested, [run.schedule_to(sparsities[0])])
    accuracy = run.level_accuracies(nested)
    costs = [ks.level_costs(nested, k) for k in range(len(levels))]
    alone = {}
    for s in sparsities:
        model = run.compile_(ks.nest(run.fresh(), [s], kind="unstructured"))
        run.fit(f"unstructured {s:.0%} alone", model, [run.schedule_to(s)])
        alone[s] = (run.level_accuracies(model)[0], ks.level_costs(model, 0))
    return {"model": nested, "accuracy": accuracy, "costs": costs, "alone": alone}


def train_reds(run: ZooRun, budgets: list[float]) -> dict:
    """REDS: importance, permutation, knapsack on MAC budgets; each level sliced before the joint training
    and trained alone after it."""
    import keras

    import keras_subnets as ks
    from keras_subnets import reds
    from keras_subnets.convert.export import sliced_model

    start = time.perf_counter()
    work = keras.models.clone_model(run.base)
    work.set_weights(run.pretrained)
    work.compile("sgd", "sparse_categorical_crossentropy")
    scores = reds.unit_importance(work, run.x_train, run.y_train, batches=FLAGS.importance_batches)
    reds.permute_channels(work, scores)
    scores = reds.unit_importance(work, run.x_train, run.y_train, batches=FLAGS.importance_batches)
    chosen = reds.plan(work, budgets, importance=scores)
    run.seconds["REDS importance, permutation, knapsack"] = time.perf_counter() - start
    print(chosen.table(), flush=True)
    nested = run.compile_(ks.nest(work, chosen.sparsities, kind="structured", widths=chosen.widths,
                                  **_nest_options()))
    sliced = [sliced_model(nested, k) for k in range(len(budgets))]
    run.fit(f"REDS structured ({len(budgets) + 1} levels)", nested)
    accuracy = run.level_accuracies(nested)
    costs = [ks.level_costs(nested, k) for k in range(len(budgets) + 1)]
    alone = {}
    for k, model in enumerate(sliced):
        run.fit(f"REDS level {k} ({budgets[k]:.0%} MACs) alone", run.compile_(model))
        alone[k] = (run.plain_accuracy(model), ks.level_costs(model, 0))
    return {"model": nested, "plan": chosen, "accuracy": accuracy, "costs": costs, "alone": alone}


def measure_cortex_m4(run: ZooRun, models: dict, m4: dict) -> None:
    """Fills ``m4`` with each nested file's Cortex-M4 Invoke() instructions per level (or why not measured),
    and ``m4["plain"]`` with the plain int8 dense model's on stock TFLM + CMSIS-NN."""
    calibration, image = run.x_train[:200], run.x_test[:1]
    start = time.perf_counter()
    m4["plain"] = plain_m4_instructions(run.dense, calibration, image)
    run.seconds["Cortex-M4 plain int8 (TensorFlow's converter, build, QEMU)"] = time.perf_counter() - start
    print(f"Cortex-M4 plain: {m4['plain']}", flush=True)
    for kind, model in models.items():
        print(f"Cortex-M4: {kind} file", flush=True)
        start = time.perf_counter()
        m4[kind] = cortex_m4_instructions(model, calibration, image)
        run.seconds[f"Cortex-M4 {kind} (convert, build, QEMU)"] = time.perf_counter() - start
        print(f"  {m4[kind]}", flush=True)


def zoo_rows(levels, budgets, dense, unstructured, structured, m4) -> list[list[str]]:
    """Rows of the zoo table: every unstructured then every REDS level, nested against alone."""
    def m4_cell(kind, k):
        if kind not in m4:
            return "not measured"
        got, plain = m4[kind], m4.get("plain")
        if isinstance(got, str):
            return got
        return f"{got[k]:,}" + (f" ({got[k] / plain:.2f}×)" if isinstance(plain, int) else "")

    dense_acc, dense_macs = dense
    acc_u, costs_u, single_u = unstructured["accuracy"], unstructured["costs"], unstructured["alone"]
    acc_s, costs_s, single_s = structured["accuracy"], structured["costs"], structured["alone"]
    rows = []
    full_macs = costs_u[-1]["macs"]
    for k, s in enumerate(levels):
        alone_acc, alone_macs = ((dense_acc, dense_macs) if s == 0.0
                                 else (single_u[s][0], single_u[s][1]["macs"]))
        rows.append(["unstructured", str(k), f"{s:.0%} sparsity", f"{100 * acc_u[k]:.2f}",
                     f"{100 * alone_acc:.2f}",
                     f"{100 * (acc_u[k] - alone_acc):+.2f}", f"{costs_u[k]['macs']:,}",
                     f"{costs_u[k]['macs'] / full_macs:.1%}", f"{alone_macs:,}", f"{costs_u[k]['nonzeros']:,}",
                     m4_cell("unstructured", k)])
    for k, b in enumerate([*budgets, 1.0]):
        alone_acc, alone_macs = ((dense_acc, dense_macs) if b == 1.0
                                 else (single_s[k][0], single_s[k][1]["macs"]))
        rows.append(["REDS structured", str(k), f"{b:.0%} MACs", f"{100 * acc_s[k]:.2f}",
                     f"{100 * alone_acc:.2f}",
                     f"{100 * (acc_s[k] - alone_acc):+.2f}", f"{costs_s[k]['macs']:,}",
                     f"{costs_s[k]['macs'] / costs_s[-1]['macs']:.1%}", f"{alone_macs:,}",
                     f"{costs_s[k]['nonzeros']:,}", m4_cell("REDS", k)])
    return rows


def publish_zoo(run: ZooRun, levels, budgets, dense, unstructured, structured, m4) -> None:
    """Prints the zoo tables (and writes them with --write)."""
    from benchmarks.report import markdown_table

    header = ["kind", "level", "target", "nested acc.", "alone acc.", "Δ (nested − alone)", "MACs (nested)",
              "MAC share", "MACs (alone)", "non-zero weights (nested)", "M4 Invoke() instr. (nested file; × plain)"]
    table = markdown_table(header, zoo_rows(levels, budgets, dense, unstructured, structured, m4))
    timing = markdown_table(["step", "wall s"], [[k, f"{v:.0f}"] for k, v in run.seconds.items()])
    chosen = structured["plan"]
    print("\n" + table + "\n\n" + timing + "\n\n" + chosen.table())
    if FLAGS.write:
        write_zoo_section(run, budgets, chosen, table, timing, m4)


def write_zoo_section(run: ZooRun, budgets, chosen, table: str, timing: str, m4: dict) -> None:
    """Writes the zoo tables with the protocol into docs/benchmarks.md's section nested_vs_individual_<model>."""
    from benchmarks.report import provenance, write_section

    name = ZOO_NAMES[FLAGS.model]
    samples = "the full training set" if FLAGS.train_samples is None else (
        f"the first {len(run.x_train):,} training images")
    body = (
        provenance() + "\n"
        f"{name} (`keras_subnets.zoo.{FLAGS.model}`, input 32×32×1), Fashion-MNIST zero-padded from 28×28 to "
        f"32×32. **Protocol (sized for 2 shared CPU cores): {samples}, one seed ({FLAGS.seed}); "
        f"{FLAGS.pretrain_epochs} dense pretraining epochs shared by all, then {FLAGS.epochs} epochs per "
        f"model** ({FLAGS.pretrain_epochs + FLAGS.epochs} in total), Adam 1e-3, batch {FLAGS.batch_size}. "
        "Nested unstructured: 4 levels, magnitude masks ramped over "
        f"{FLAGS.ramp_epochs} epoch(s) (PolynomialDecay, power 3); *alone*: the same architecture with one "
        "level (`ks.nest(model, [s])`, the same ramp). REDS structured: unit importance "
        f"(Σ|W⊙G| over {FLAGS.importance_batches} batches), permutation, knapsack (HiGHS) at "
        f"{' / '.join(f'{b:.0%}' for b in budgets)} of the MACs plus the full network, joint training with "
        "per-level BatchNorm; *alone*: each level sliced into a smaller plain Keras model before the joint "
        "training and trained by itself. The full level's *alone* model is the pretrained dense model "
        f"fine-tuned {FLAGS.epochs} epochs. Nested options: inner_gradient={FLAGS.inner_gradient:g}, "
        f"shared_gradient={FLAGS.shared_gradient:g}, level weights "
        f"{FLAGS.level_weights or 'REDS sqrt (default)'}. Test accuracy in % on {len(run.x_test):,} test "
        "images, "
        f"once at the end, after BatchNorm recalibration ({FLAGS.recalibration_batches} batches of 256 "
        "training images, every model and level). MACs per image as counted by `ks.level_costs`. "
        + ("M4: whole-model `Invoke()` instructions of the nested int8 file per level on Cortex-M4 (QEMU "
           "mps2-an386, the whole-model harness, one test image) and, in brackets, its ratio to the plain "
           "int8 model users ship today: the dense *alone* model converted by TensorFlow's converter "
           "(GlobalAveragePooling → MEAN), run on stock TFLM + CMSIS-NN in the same harness: "
           + (f"{m4['plain']:,} instructions." if isinstance(m4.get("plain"), int)
              else f"{m4.get('plain', 'not measured')}.")
           if any(isinstance(v, list) for v in m4.values())
           else "Cortex-M4 instructions not measured in this run" + (" (see the last column)." if m4 else "."))
        + "\n\n" + table + "\n\nWall time of each step (same run):\n\n" + timing
        + "\n\nREDS knapsack, widths per level:\n\n```\n" + chosen.table() + "\n```\n"
    )
    write_section(f"nested_vs_individual_{FLAGS.model}",
                  f"{name} on Fashion-MNIST 32×32: nested and REDS levels vs the same levels trained alone",
                  body)


if __name__ == "__main__":
    app.run(main)
