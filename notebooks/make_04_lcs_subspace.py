# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Source of notebooks/04_lcs_subspace.ipynb (run this file to regenerate it)."""

from pathlib import Path

from _builder import write_notebook  # notebooks/_builder.py, beside this file

CELLS = [
    ("md", """
# LCS: train one subspace, deploy any compression level

A *learned compressible subspace* (Nunez et al., WACV 2023; `docs/` papers
§4) is trained so that every α ∈ [0, 1] names a working network: α = 1 keeps
every weight, α = 0.1 keeps 10 % of them (unstructured), or α picks a width
or a bit width. **LCS+P** trains one point at a random α per step; **LCS+L**
trains a line w(α) = (1 − α)·w₀ + α·w₁.

This notebook trains both on real Fashion-MNIST, sweeps α, then exports four
α points of LCS+P as the nested levels of one `.tflite` file and runs them on
the `KS_*` operators.

Set `KS_NOTEBOOK_FAST=1` to run on a small slice (the test suite does).
"""),
    ("code", """
import os
import keras
import matplotlib.pyplot as plt
import numpy as np
import keras_subnets as ks
from keras_subnets import lcs
from keras_subnets.convert import convert, read_levels
from keras_subnets.demo import load_scaled
from keras_subnets.tflm import run_levels

FAST = os.environ.get("KS_NOTEBOOK_FAST") == "1"
(x_train, y_train), (x_test, y_test) = load_scaled(
    train_samples=2000 if FAST else None, test_samples=300 if FAST else None)
EPOCHS = 1 if FAST else 8
# BatchNorm re-estimation runs on a slice of the training images: its cost grows with their number.
x_calib = x_train[:256 if FAST else 2000]
keras.utils.set_random_seed(0)
print(x_train.shape, x_test.shape)
"""),
    ("md", """
## 1. Train the subspaces inside `model.fit`

`lcs.subspace` swaps `Conv2D`, `DepthwiseConv2D` and `Dense` for LCS layers
and BatchNorm for one of three normalisations. We use
`norm="batch_per_level"` (BatchNorm statistics per band of α) because it
folds into the weights on a micro-controller; LCS's own choice,
`norm="group"`, needs normalisation ops at run time.

Each step draws α inside the compiled step: with p = 1/2 an endpoint
(0.025 or 1), otherwise uniform. During the first 80 % of training the kept
fraction is α + (1 − α)·(1 − step/warm-up), so the network starts dense.
After training, `lcs.recalibrate_batch_norm` re-estimates each α band's
statistics (a middle band is trained by few steps, its moving averages lag).

Besides the paper's recipe we train an LCS+P point with ours
(`docs/benchmarks.md` measures both): the sandwich (the most compressed, the
full and two random α on every batch) whose small end is the most compressed
network we will deploy (`alpha_min=0.1`: every step trains it, as a nested
model trains its smallest level), gradient routing between its nested
networks (`inner_gradient=0.1`), α drawn uniformly in log α
(`draw_spacing="geometric"`), the cubic warm-up of gradual pruning
(`warmup_power=3`) and the |w| ranking frozen when the warm-up ends
(`freeze_order=True`), so each α's mask stops moving for the last 20 % of
training. The subspace then serves α ∈ [0.1, 1]; below its `alpha_min` a
network was never trained (`export_levels` refuses it).
"""),
    ("code", """
def train(kind, variant, **recipe):
    model = lcs.subspace(ks.zoo.quickstart_cnn(), kind=kind, variant=variant, norm="batch_per_level",
                         alpha_bands="geometric" if kind == "unstructured" else "linear", **recipe)
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=2)
    # Each α band's BatchNorm row saw only its own steps; re-estimate it from data.
    lcs.recalibrate_batch_norm(model, x_calib)
    return model

point = train("unstructured", "point")
ours = train("unstructured", "point", sampling="sandwich", alpha_min=0.1, inner_gradient=0.1,
             draw_spacing="geometric", warmup_power=3, freeze_order=True)
line = train("unstructured", "line")
bits = train("bits", "point")
"""),
    ("md", "## 2. Sweep α: accuracy against sparsity and bit width"),
    ("code", """
def sweep(model, alphas, exact=False):
    # exact: re-estimate BatchNorm at exactly that α first, which is what an exported level gets.
    accuracy = []
    saved = [v.numpy() for v in model.non_trainable_variables]
    for a in alphas:
        if exact:
            lcs.recalibrate_batch_norm(model, x_calib, alpha=a)
        with lcs.alpha(model, a):
            accuracy.append(model.evaluate(x_test, y_test, verbose=0)[1])
    for v, value in zip(model.non_trainable_variables, saved, strict=True):
        v.assign(value)
    return np.array(accuracy)

ALPHAS = np.linspace(0.1, 1.0, 5 if FAST else 12)   # our recipe's range: alpha_min = 0.1
acc_point, acc_ours, acc_line = (sweep(m, ALPHAS, exact=True) for m in (point, ours, line))
BIT_ALPHAS = [(b - 3 + 0.5) / 6 for b in range(3, 9)]   # the middle of each bit width's α band
acc_bits = sweep(bits, BIT_ALPHAS)
for a, p, o, q in zip(ALPHAS, acc_point, acc_ours, acc_line, strict=True):
    print(f"α={a:.3f}  sparsity {100 * (1 - a):5.1f} %   LCS+P {100 * p:5.1f} %   "
          f"LCS+P (ours) {100 * o:5.1f} %   LCS+L {100 * q:5.1f} %")
"""),
    ("code", """
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(100 * (1 - ALPHAS), 100 * acc_point, "o-", label="LCS+P (point)")
left.plot(100 * (1 - ALPHAS), 100 * acc_ours, "^-", label="LCS+P, our recipe")
left.plot(100 * (1 - ALPHAS), 100 * acc_line, "s--", label="LCS+L (line)")
left.set_xlabel("unstructured sparsity (%)")
left.set_ylabel("test accuracy (%)")
left.grid(True, alpha=0.3)
left.legend()
right.plot(range(3, 9), 100 * acc_bits, "o-")
right.set_xlabel("weight bits (per-tensor fake quantization)")
right.set_ylabel("test accuracy (%)")
right.grid(True, alpha=0.3)
plt.tight_layout()
plt.show()
"""),
    ("md", """
## 3. Four α points of LCS+P become four nested levels

A point's masks are the top-k of the *same* |w| (with `freeze_order`, the
frozen one), so the network at a small α is contained in the network at a
larger α: `lcs.export_levels` writes them as the nested levels of a
`SubnetModel`, and the converter stores every weight once. Given
`calibration_data`, each level's BatchNorm is re-estimated at exactly its α
rather than averaged over its band. A line's top-k moves with α; it would
have to be stored once per α.
"""),
    ("code", """
LEVEL_ALPHAS = [0.1, 0.25, 0.5, 1.0]
levels = lcs.export_levels(ours, LEVEL_ALPHAS, calibration_data=x_calib)
levels.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
rows = ks.evaluate_levels(levels, x_test, y_test)
cost = lcs.storage_cost(line, LEVEL_ALPHAS)
print(f"LCS+P, nested: {cost['nested']:,} int8 weights stored for all four levels")
print(f"LCS+L, one sparse network per α: {cost['materialized']:,} int8 weights "
      f"({cost['materialized'] / cost['nested']:.2f}x), or both endpoints: {cost['endpoints']:,}")
"""),
    ("md", "## 4. One int8 file, run by the `KS_*` operators"),
    ("code", """
blob = convert(levels, x_train[:200], quantize="int8", accuracy=[r["accuracy"] for r in rows], progress=False)
print(f"{len(blob):,} bytes for four levels")
x_eval, y_eval = x_test[:100 if FAST else 1000], y_test[:100 if FAST else 1000]
outputs = run_levels(blob, x_eval)       # {level: int8 outputs} from the KS_* kernels
for row, k in zip(read_levels(blob)["levels"], range(len(LEVEL_ALPHAS)), strict=True):
    int8_acc = float(np.mean(np.argmax(outputs[k], 1) == y_eval))
    print(f"level {k} (α={LEVEL_ALPHAS[k]}): {row['nonzeros']:>6,} weights, {row['macs']:>9,} MACs, "
          f"Keras {100 * row['accuracy']:5.1f} %, int8 accuracy on KS_* kernels {100 * int8_acc:5.1f} %")
"""),
    ("md", """
## What bit widths buy on a micro-controller

The `bits` subspace is trained at 3–8 bit per-tensor weights, but the `KS_*`
kernels and TFLite Micro's builtins store and multiply every weight as int8:
a 4-bit network runs exactly as fast, and takes the same flash, as an 8-bit
one. Only packing the weights to b bits and expanding them at load time (a
look-up-table decode, not implemented) would save flash. `lcs.materialize(bits, α)`
exports the network at one bit width as a plain Keras model for TensorFlow's
own converter.
"""),
]

if __name__ == "__main__":
    write_notebook(Path(__file__).with_name("04_lcs_subspace.ipynb"), CELLS)
