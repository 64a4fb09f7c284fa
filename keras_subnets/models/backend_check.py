# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""One deterministic training run, for comparing Keras backends.

Run as ``KERAS_BACKEND=<name> python -m keras_subnets.models.backend_check OUT.npz``:
nests a small CNN (Conv2D, BatchNormalization, Dense) from fixed weights,
trains two epochs of plain SGD with the mask schedule, saves and reloads the
``.keras`` file, and writes the trained weights, the logged losses and each
level's predictions (before and after the reload), and REDS's unit importance to
``OUT.npz``. Then the same base model (still usable: nothing built from it may
share its buffers, which JAX's ``fit`` donates) becomes an LCS subspace whose
training logs, evaluation and predictions at several α, reload and exported
levels are written too. The same inputs on every backend must give the same
numbers up to float rounding.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np


def run(out: str) -> None:
    import keras

    import keras_subnets as ks

    rng = np.random.default_rng(7)
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, name="head")(x)
    base = keras.Model(inputs, outputs)
    # Every backend draws its own initial weights: set them all from numpy.
    base.get_layer("conv").set_weights([rng.normal(scale=0.5, size=(3, 3, 2, 6)).astype("float32")])
    base.get_layer("head").set_weights([rng.normal(scale=0.5, size=(6, 3)).astype("float32"),
                                        np.zeros(3, "float32")])
    extra = {}
    xs_importance = rng.normal(size=(32, 6, 6, 2)).astype("float32")
    ys_importance = rng.integers(0, 3, 32)
    # REDS's unit importance (Σ|W⊙∂L/∂W|: gradients through the backend) of the dense model.
    from keras_subnets import reds

    scores = reds.unit_importance(base, xs_importance, ys_importance, batches=2, batch_size=16,
                                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    for name, score in sorted(scores.items()):
        extra[f"importance_{name}"] = np.asarray(score)
    model = ks.nest(base, [0.6, 0.3, 0.0], inner_gradient=0.5)
    model.compile(keras.optimizers.SGD(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    xs = rng.normal(size=(48, 6, 6, 2)).astype("float32")
    ys = rng.integers(0, 3, 48)
    schedule = ks.schedules.PolynomialDecay(0.0, 0.6, begin_step=0, end_step=4, frequency=2)
    history = model.fit(xs, ys, batch_size=16, epochs=2, shuffle=False, verbose=0,
                        validation_data=(xs[:16], ys[:16]),
                        callbacks=[ks.MaskScheduler(schedule)])
    result = {f"weight_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    for key, values in history.history.items():
        result[f"log_{key}"] = np.asarray(values)
    result["level_weights"] = np.asarray(model.level_weights, np.float64)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
    for k in range(model.num_levels):
        ks.set_level(model, k)
        ks.set_level(loaded, k)
        result[f"predict_{k}"] = np.asarray(model.predict(xs, verbose=0))
        result[f"reloaded_{k}"] = np.asarray(loaded.predict(xs, verbose=0))
    # One more step on one batch: what it logs for each level against that
    # level's own training-mode forward pass on the batch (scored in numpy by
    # the test), run before the step.
    from keras_subnets.levels import level_override

    xb, yb = xs[:16], ys[:16]
    for k in range(model.num_levels):
        with level_override(k):
            result[f"step_logits_{k}"] = np.asarray(keras.ops.convert_to_numpy(model(xb, training=True)))
    result["step_labels"] = yb
    logs = model.train_on_batch(xb, yb, return_dict=True)
    for key, value in logs.items():
        result[f"step_{key}"] = np.asarray(value)
    if keras.backend.backend() != "tensorflow":
        from keras_subnets.convert import ConversionError

        try:
            ks.convert.convert(model, quantize="float32", progress=False)
        except ConversionError as err:
            assert "needs Keras' TensorFlow backend" in str(err) and "keras-subnets convert" in str(err), err
        else:
            raise AssertionError("convert() accepted a model of another backend")
    # The user's base model survives nest() and fit (on JAX, fit donates the
    # nested model's buffers: a shared one would be deleted under the base).
    result["base_predict"] = np.asarray(base.predict(xs, verbose=0))
    result.update(_lcs_run(base, xs, ys))
    result.update(extra)
    result["backend"] = np.asarray(keras.backend.backend())
    np.savez(out, **result)


LCS_ALPHAS = (0.25, 0.5, 1.0)


def _call(model, xs) -> np.ndarray:
    """Inference by a plain call: no compiled predict function per model (seconds each on JAX)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(xs, training=False)))


def _lcs_run(base, xs, ys) -> dict:
    """An unstructured LCS+P subspace of ``base``: train, evaluate, reload, export.

    The sandwich without random draws (``sandwich=0``: α_min and α = 1 every
    step) keeps the run deterministic, so every backend trains the same
    networks; the frozen ranking and the inner gradient run too.
    """
    import keras

    import keras_subnets as ks
    from keras_subnets import lcs

    def compile_(model):
        model.compile(keras.optimizers.SGD(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])

    options = dict(kind="unstructured", variant="point", norm="batch_per_level", alpha_bins=2,
                   sampling="sandwich", sandwich=0, alpha_min=LCS_ALPHAS[0], inner_gradient=0.5,
                   freeze_order=True, warmup_steps=2)
    model = lcs.subspace(base, **options)
    compile_(model)
    history = model.fit(xs, ys, batch_size=16, epochs=1, shuffle=False, verbose=0)
    result = {f"lcs_log_{key}": np.asarray(values) for key, values in history.history.items()}
    result.update({f"lcs_weight_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lcs.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
    for k, a in enumerate(LCS_ALPHAS):
        with lcs.alpha(model, a):
            scores = model.evaluate(xs, ys, batch_size=16, verbose=0, return_dict=True)
            result[f"lcs_predict_{k}"] = np.asarray(model.predict(xs, verbose=0))
        with lcs.alpha(loaded, a):
            result[f"lcs_reloaded_{k}"] = _call(loaded, xs)
        for key, value in scores.items():
            result[f"lcs_evaluate_{k}_{key}"] = np.asarray(value)
    levels = lcs.export_levels(model, list(LCS_ALPHAS))
    for k in range(len(LCS_ALPHAS)):
        with ks.level(levels, k):
            result[f"lcs_export_{k}"] = _call(levels, xs)
    # Fine-tuning the exported levels, and a second subspace of the same base,
    # leave the first subspace usable.
    compile_(levels)
    levels.fit(xs, ys, batch_size=16, epochs=1, shuffle=False, verbose=0)
    again = lcs.subspace(base, **options)
    with lcs.alpha(model, LCS_ALPHAS[1]):
        np.testing.assert_array_equal(np.asarray(model.predict(xs, verbose=0)), result["lcs_predict_1"])
    result["lcs_again_predict"] = _call(again, xs)  # at α = 1
    return result


if __name__ == "__main__":
    run(sys.argv[1])
