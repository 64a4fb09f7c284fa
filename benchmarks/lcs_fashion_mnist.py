# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""LCS subspaces against individually trained and nested models, Fashion-MNIST.

Protocol (everything measured in this one run, quickstart CNN, from scratch,
the same --epochs for every trained artefact):
1. LCS: `keras_subnets.lcs.subspace(kind="unstructured")` for each variant
   (--variants: point = LCS+P, line = LCS+L) and normalisation (--norms),
   trained --epochs in `model.fit` (α drawn per step, warm-up over the first
   80 %), per-band BatchNorm recalibrated; test accuracy on a grid of
   --grid α points from --grid_min to 1.
2. Individual: one model per α of --points, `ks.nest` with the single level
   sparsity 1 − α, masks grown by `MaskScheduler` (PolynomialDecay) over the
   first 80 % of the same --epochs, BatchNorm recalibrated.
3. Nested: `ks.nest` with the levels 1 − α of --points, trained jointly the
   same --epochs (the foundation issue's method).
Target (issue 6): LCS+P within 1 point of the individual models.

    python -m benchmarks.lcs_fashion_mnist [--epochs 10] [--write]
    python -m benchmarks.lcs_fashion_mnist --train_samples 1000 --epochs 1 --grid 4   # smoke run
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("epochs", 10, "Training epochs of every model.")
flags.DEFINE_integer("grid", 12, "α points swept for each subspace (--grid_min .. 1).")
flags.DEFINE_float("grid_min", 0.05, "Smallest α of the sweep.")
flags.DEFINE_list("points", ["0.1", "0.25", "0.5", "1.0"], "α of the individual and nested models.")
flags.DEFINE_list("variants", ["point", "line"], "LCS variants.")
flags.DEFINE_list("norms", ["batch_per_level", "group"], "Normalisations of the subspaces.")
flags.DEFINE_list("samplings", ["lcs"], "α sampling of the subspaces: lcs (the paper: one α per step) and/or "
                  "sandwich (most compressed, full and 2 draws per step; 4x the step cost).")
flags.DEFINE_enum("alpha_bands", "linear", ["linear", "geometric"], "α bands of per-level BatchNorm "
                  "(geometric: equal ratios from alpha_min = 0.025 to 1).")
flags.DEFINE_integer("alpha_bins", 4, "α bands of per-level BatchNorm.")
flags.DEFINE_string("section", "lcs_fashion_mnist", "Section of docs/benchmarks.md to write (a partial run can "
                    "sit next to the full table).")
flags.DEFINE_float("inner_gradient", 0.1, "inner_gradient of the nested joint model (SubnetModel).")
flags.DEFINE_list("lcs_inner_gradients", ["1"], "inner_gradient values of the sandwich subspaces (1 = plain "
                  "LCS); each value is one more column.")
flags.DEFINE_enum("draw_spacing", "linear", ["linear", "geometric"], "Spacing of the sandwich subspaces' "
                  "α draws (the 'lcs' columns keep the paper's linear draws).")
flags.DEFINE_bool("freeze_order", False, "Sandwich LCS+P subspaces freeze their |w| ranking when the warm-up "
                  "ends (SubspaceModel(freeze_order=True)).")
flags.DEFINE_float("alpha_min", 0.025, "alpha_min of the sandwich subspaces (the 'lcs' columns keep the "
                   "paper's 0.025).")
flags.DEFINE_bool("stratified_draws", False, "Sandwich subspaces draw one α per stratum of the spacing "
                  "(SubspaceModel(stratified_draws=True)).")
flags.DEFINE_float("warmup_power", 1.0, "Shape of the subspaces' warm-up ramp (1 = the paper's linear, 3 = "
                   "cubic, as the individual models' PolynomialDecay).")
flags.DEFINE_float("warmup_fraction", 0.8, "Warm-up share of the sandwich subspaces' training (the 'lcs' "
                   "columns and the individual models keep 0.8).")
flags.DEFINE_integer("sandwich", 2, "Draws per step between the sandwich's endpoints (SubspaceModel(sandwich=)).")
flags.DEFINE_bool("baselines", True, "Also train the individual and nested joint models (--nobaselines for "
                  "quick comparisons of subspace settings).")
flags.DEFINE_integer("seed", 0, "Seed of every model's initialisation and data order (and of the α draws).")
flags.DEFINE_integer("train_samples", None, "Shorten the training set (smoke runs).")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_bool("write", False, "Write the table to docs/benchmarks.md.")

INDIVIDUAL = "individual (one model per α)"


def main(argv):
    del argv
    if FLAGS.write and not FLAGS.baselines:
        raise app.UsageError("--write needs the baselines measured in the same run; drop --nobaselines")
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import numpy as np

    from benchmarks.report import markdown_table
    from keras_subnets.demo import load_scaled

    data = load_scaled(FLAGS.train_samples)
    (x_train, _), _ = data
    steps = int(np.ceil(len(x_train) / FLAGS.batch_size))
    warmup = max(1, int(0.8 * steps * FLAGS.epochs))
    points = [float(a) for a in FLAGS.points]
    grid = sorted(set(np.round(np.linspace(FLAGS.grid_min, 1.0, FLAGS.grid), 4).tolist()) | set(points))

    columns, results, seconds = [], {}, {}
    for variant, norm, sampling, routing in subspace_configurations():
        columns += train_subspace(data, grid, variant, norm, sampling, routing, results, seconds)
    individual = INDIVIDUAL
    results[individual], seconds[individual] = train_individual_models(data, points if FLAGS.baselines else [],
                                                                       steps, warmup)
    if FLAGS.baselines:
        columns.append(individual)
        columns.append(train_nested_joint(data, points, steps, warmup, results, seconds))

    table = markdown_table(["α", "sparsity %", *columns], table_rows(grid, columns, results, seconds))
    print(table)
    lcs_p = [c for c in columns if c.startswith("LCS+P")]
    for c in lcs_p if FLAGS.baselines else []:
        gaps = [100 * (results[individual][a] - results[c][a]) for a in points]
        print(f"{c}: largest shortfall against individual models {max(gaps):+.2f} points")
    if FLAGS.write:
        write_lcs_section(len(x_train), table)


def _compile(model) -> None:
    import keras

    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])


def _accuracy(data, model) -> float:
    """Test accuracy on the full test set."""
    _, (x_test, y_test) = data
    return float(model.evaluate(x_test, y_test, batch_size=512, verbose=0)[1])


def _fit(data, model, callbacks=()) -> None:
    """Trains ``model`` --epochs."""
    (x_train, y_train), _ = data
    model.fit(x_train, y_train, batch_size=FLAGS.batch_size, epochs=FLAGS.epochs, verbose=2,
              callbacks=list(callbacks))


def subspace_configurations() -> list[tuple[str, str, str, float]]:
    """(variant, norm, sampling, inner_gradient) of every subspace to train: the 'lcs' ones, then the sandwich ones."""
    configurations = [(v, n, s, 1.0) for v in FLAGS.variants for n in FLAGS.norms for s in FLAGS.samplings
                      if s == "lcs"]
    configurations += [(v, n, s, float(g)) for v in FLAGS.variants for n in FLAGS.norms for s in FLAGS.samplings
                       for g in FLAGS.lcs_inner_gradients if s == "sandwich" and (v == "point" or float(g) == 1)]
    return configurations


def subspace_settings(variant: str, norm: str, sampling: str, routing: float) -> tuple[str, bool, str, bool]:
    """The column name of a subspace and its freeze_order, draw_spacing and stratified_draws settings."""
    name = f"LCS+{'P' if variant == 'point' else 'L'} ({norm}{', sandwich' if sampling == 'sandwich' else ''}"
    freeze = FLAGS.freeze_order and sampling == "sandwich" and variant == "point"
    name += f", inner_gradient {routing:g}" if routing != 1.0 else ""
    name += ", frozen order" if freeze else ""
    spacing = FLAGS.draw_spacing if sampling == "sandwich" else "linear"
    name += ", geometric draws" if spacing == "geometric" else ""
    stratified = FLAGS.stratified_draws and sampling == "sandwich"
    name += ", stratified" if stratified else ""
    if sampling == "sandwich":
        name += f", {FLAGS.sandwich} draws" if FLAGS.sandwich != 2 else ""
        name += f", α_min {FLAGS.alpha_min:g}" if FLAGS.alpha_min != 0.025 else ""
        name += f", warm-up power {FLAGS.warmup_power:g}" if FLAGS.warmup_power != 1 else ""
        name += f", warm-up {100 * FLAGS.warmup_fraction:g} %" if FLAGS.warmup_fraction != 0.8 else ""
    name += ")"
    return name, freeze, spacing, stratified


def train_subspace(data, grid, variant, norm, sampling, routing, results, seconds) -> list[str]:
    """Step 1 for one subspace: trained, recalibrated and swept over ``grid``; the columns it adds."""
    import keras

    import keras_subnets as ks
    from keras_subnets import lcs

    (x_train, _), _ = data
    name, freeze, spacing, stratified = subspace_settings(variant, norm, sampling, routing)
    keras.utils.set_random_seed(FLAGS.seed)
    start = time.time()
    # The 'lcs' columns are the paper's recipe; the sandwich flags shape only ours.
    options = {"seed": 1337 + FLAGS.seed}
    if sampling == "sandwich":
        options.update(alpha_min=FLAGS.alpha_min, sandwich=FLAGS.sandwich, stratified_draws=stratified,
                       warmup_power=FLAGS.warmup_power, warmup_fraction=FLAGS.warmup_fraction)
    model = lcs.subspace(ks.zoo.quickstart_cnn(), kind="unstructured", variant=variant, norm=norm,
                         sampling=sampling, alpha_bands=FLAGS.alpha_bands, alpha_bins=FLAGS.alpha_bins,
                         inner_gradient=routing,
                         draw_spacing=spacing, freeze_order=freeze, **options)
    _compile(model)
    _fit(data, model)
    lcs.recalibrate_batch_norm(model, x_train)
    seconds[name] = time.time() - start
    results[name] = {}
    for a in grid:
        with lcs.alpha(model, a):
            results[name][a] = _accuracy(data, model)
    print(name, {a: round(100 * v, 2) for a, v in results[name].items()}, flush=True)
    if norm != "batch_per_level":
        return [name]
    # A band's statistics span several-fold different activations at high sparsity; the
    # statistics of exactly α are what an exported level gets (ks.recalibrate_batch_norm).
    exact = f"{name}, statistics at exactly α"
    results[exact] = accuracy_at_exact_alpha(data, model, grid)
    seconds[exact] = seconds[name]
    print(exact, {a: round(100 * v, 2) for a, v in results[exact].items()}, flush=True)
    return [name, exact]


def accuracy_at_exact_alpha(data, model, grid) -> dict[float, float]:
    """Test accuracy at each α of ``grid`` with its band's BatchNorm statistics estimated at exactly that α
    (the model's statistics are restored afterwards)."""
    from keras_subnets import lcs

    (x_train, _), _ = data
    accuracy = {}
    saved = [v.numpy() for v in model.non_trainable_variables]
    for a in grid:
        lcs.recalibrate_batch_norm(model, x_train, alpha=a)
        with lcs.alpha(model, a):
            accuracy[a] = _accuracy(data, model)
    for v, value in zip(model.non_trainable_variables, saved, strict=True):
        v.assign(value)
    return accuracy


def train_individual_models(data, points, steps: int, warmup: int) -> tuple[dict[float, float], float]:
    """Step 2: one single-level model per α of ``points``; test accuracy per α and the total training time."""
    import keras

    import keras_subnets as ks

    (x_train, _), _ = data
    accuracy, seconds = {}, 0.0
    for a in points:
        keras.utils.set_random_seed(FLAGS.seed)
        start = time.time()
        model = ks.nest(ks.zoo.quickstart_cnn(), [1.0 - a], kind="unstructured", keep_row_max=False)
        _compile(model)
        callbacks = [ks.RecalibrateBatchNorm(x_train)]
        if a < 1.0:
            schedule = ks.schedules.PolynomialDecay(0.0, 1.0 - a, 0, warmup, frequency=max(1, steps // 10))
            callbacks.insert(0, ks.MaskScheduler(schedule))
        _fit(data, model, callbacks)
        seconds += time.time() - start
        accuracy[a] = _accuracy(data, model)
        print(INDIVIDUAL, a, round(100 * accuracy[a], 2), flush=True)
    return accuracy, seconds


def train_nested_joint(data, points, steps: int, warmup: int, results, seconds) -> str:
    """Step 3: the levels 1 − α of ``points`` nested and trained jointly; the column it adds."""
    import keras

    import keras_subnets as ks

    (x_train, _), _ = data
    nested = f"nested joint (ks.nest, levels = points, inner_gradient {FLAGS.inner_gradient:g})"
    keras.utils.set_random_seed(FLAGS.seed)
    start = time.time()
    levels = [1.0 - a for a in points]
    model = ks.nest(ks.zoo.quickstart_cnn(), levels, kind="unstructured", keep_row_max=False,
                    inner_gradient=FLAGS.inner_gradient)
    _compile(model)
    schedule = ks.schedules.PolynomialDecay(0.0, levels[0], 0, warmup, frequency=max(1, steps // 10))
    _fit(data, model, [ks.MaskScheduler(schedule), ks.RecalibrateBatchNorm(x_train)])
    seconds[nested] = time.time() - start
    results[nested] = {}
    for k, a in enumerate(points):
        with ks.level(model, k):
            results[nested][a] = _accuracy(data, model)
    return nested


def table_rows(grid, columns, results, seconds) -> list[list[str]]:
    """One row per α of ``grid`` (empty cells where a column has no model at α), then the training times."""
    rows = []
    for a in grid:
        row = [f"{a:.3f}", f"{100 * (1 - a):.1f}"]
        row += [f"{100 * results[c][a]:.2f}" if a in results[c] else "" for c in columns]
        rows.append(row)
    rows.append(["training time (s)", ""] + [f"{seconds[c]:.0f}" for c in columns])
    return rows


def write_lcs_section(train_samples: int, table: str) -> None:
    """Writes the table with the protocol into docs/benchmarks.md's section --section."""
    from benchmarks.report import provenance, write_section

    body = (provenance() + f"\nQuickstart CNN, {train_samples} Fashion-MNIST training images, every model "
            f"trained from scratch for {FLAGS.epochs} epochs (batch {FLAGS.batch_size}, seed {FLAGS.seed}); test "
            "accuracy "
            "in % on the full test set (Keras float32). Unstructured sparsity = 1 − α. The individual "
            "models' masks grow over the same first 80 % of training as LCS's warm-up. `batch_per_level` "
            f"subspaces hold BatchNorm per band of α ({FLAGS.alpha_bins} {FLAGS.alpha_bands} bands), "
            "re-estimated after training; the columns "
            "'statistics at exactly α' re-estimate the band of each α at exactly that α (what an exported "
            "level gets), GroupNorm needs no statistics. 'sandwich' subspaces train the most compressed "
            f"(α = {FLAGS.alpha_min:g}), the full and {FLAGS.sandwich} "
            f"{'stratified' if FLAGS.stratified_draws else 'independent'} α draws between on every batch "
            f"(our extension of LCS's structured rule; {2 + FLAGS.sandwich}× the step cost) instead of one α "
            "per step (the 'lcs' columns keep the paper's α_min = 0.025); with 'inner_gradient g' each of "
            "its passes reaches the weights of the next smaller network at g× the gradient "
            "(`SubspaceModel(inner_gradient=)`); 'frozen order' freezes the |w| ranking behind every α's "
            "mask when the warm-up ends (`freeze_order=True`); 'geometric draws' draws the non-endpoint α "
            "uniformly in log α (`draw_spacing=\"geometric\"`). Sandwich subspaces' warm-up lasts "
            f"{100 * FLAGS.warmup_fraction:g} % of training, its ramp has power {FLAGS.warmup_power:g} "
            "(`warmup_power`; 1 = the paper's linear ramp, 3 = the individual models' "
            "cubic schedule).\n\n" + table + "\n")
    title = "LCS subspaces against individual and nested models"
    if FLAGS.section != "lcs_fashion_mnist":
        title += f" ({', '.join(FLAGS.samplings)} sampling, {', '.join(FLAGS.variants)}, {', '.join(FLAGS.norms)})"
    write_section(FLAGS.section, title, body)


if __name__ == "__main__":
    app.run(main)
