# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Source of notebooks/02_reds_knapsack.ipynb (run this file to regenerate it)."""

from pathlib import Path

from _builder import write_notebook  # notebooks/_builder.py, beside this file

CELLS = [
    ("md", """
# REDS: structured sub-networks chosen by a nested knapsack

REDS (Corti et al.) keeps, for every level, a *prefix* of each layer's units
after sorting them by importance, and picks the prefixes with a knapsack that
maximises kept importance within a MAC budget. Solving the smallest budget
first and fixing its choice in the next one makes the levels nested. Here:
DS-CNN S on real Fashion-MNIST, budgets 25 / 50 / 75 / 100 % of the dense
MACs, SciPy's HiGHS instead of a commercial solver, per-level BatchNorm, and
one int8 file for all levels.

`KS_NOTEBOOK_FAST=1` runs a small slice (the test suite does).
"""),
    ("code", """
import os
import time
import keras
import numpy as np
import matplotlib.pyplot as plt
import keras_subnets as ks
from keras_subnets import reds
from keras_subnets.convert import convert, read_levels
from keras_subnets.tflm import run_levels
from keras_subnets.demo import load_scaled

FAST = os.environ.get("KS_NOTEBOOK_FAST") == "1"
(x_train, y_train), (x_test, y_test) = load_scaled(
    train_samples=2000 if FAST else None, test_samples=500 if FAST else None)
PRETRAIN, JOINT = (1, 1) if FAST else (10, 10)
keras.utils.set_random_seed(0)
"""),
    ("md", "## 1. A dense DS-CNN S"),
    ("code", """
base = ks.zoo.ds_cnn_s()
base.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
base.fit(x_train, y_train, batch_size=128, epochs=PRETRAIN, verbose=2)
"""),
    ("md", """
## 2. Importance and a function-preserving permutation

A unit's importance is Σ|W ⊙ ∂L/∂W| over its weights, summed over mini-batches.
Sorting the units moves the BatchNorm entries, the depthwise channels tied to
them and the next layer's input rows along, so the model computes exactly the
same function — now with its most important units first.
"""),
    ("code", """
work = keras.models.clone_model(base)
work.set_weights(base.get_weights())
work.compile("sgd", "sparse_categorical_crossentropy")
before = work.predict(x_test[:64], verbose=0)
scores = reds.unit_importance(work, x_train, y_train, batches=20 if FAST else 100)
reds.permute_channels(work, scores)
print("largest output change after permuting:", np.abs(work.predict(x_test[:64], verbose=0) - before).max())
scores = reds.unit_importance(work, x_train, y_train, batches=20 if FAST else 100)
fig, ax = plt.subplots(figsize=(6, 3))
for name in ("stem", "pw1", "pw2", "pw3", "pw4"):
    ax.plot(scores[name] + scores.get(name.replace("pw", "dw").replace("stem", "dw1"), 0), label=name)
ax.set_xlabel("unit (after sorting)")
ax.set_ylabel("importance")
ax.legend()
plt.show()
"""),
    ("md", "## 3. The nested knapsack (HiGHS MILP) against a greedy baseline"),
    ("code", """
start = time.perf_counter()
chosen = reds.plan(work, (0.25, 0.5, 0.75), importance=scores)
print(f"solved 4 budgets in {time.perf_counter() - start:.2f} s (REDS: 19 min with Gurobi)")
print(chosen.table())
for k, step in enumerate(chosen.drop_order):
    print(f"to level {len(chosen.solutions) - 2 - k}: drop", ", ".join(f"{g}[{a}:{b}]" for g, a, b in step))
"""),
    ("md", "## 4. Joint fine-tuning of the four levels"),
    ("code", """
model = ks.nest(work, chosen.sparsities, kind="structured", widths=chosen.widths)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=JOINT, verbose=2, callbacks=[ks.RecalibrateBatchNorm(x_train)])
rows = ks.evaluate_levels(model, x_test, y_test)
"""),
    ("md", """
## 5. One int8 file, every level on the custom kernels

`keras_subnets.tflm.run_levels` runs the file in the `tflite-micro` wheel's
interpreter with our `KS_*` kernels registered; each level is one int32 written
to the `subnet` input. The structured kernels compute only each level's leading
block of units, read in place.
"""),
    ("code", """
blob = convert(model, x_train[:200], quantize="int8", accuracy=[r["accuracy"] for r in rows])
print(f"{len(blob) / 1024:.1f} KB for all four levels")
n = 200 if FAST else 2000
outputs = run_levels(blob, x_test[:n])
int8_acc = []
for k in range(len(rows)):
    int8_acc.append(float(np.mean(np.argmax(outputs[k], 1) == y_test[:n])))
    print(f"level {k}: int8 accuracy {int8_acc[-1]:.4f}, bytes read {read_levels(blob)['levels'][k]['bytes_read']:,}")
"""),
    ("code", """
reds_macs = [0.25, 0.5, 0.75, 1.0]
reds_acc = [89.22, 90.75, 91.51, 91.60]  # published, 250 epochs
dense_macs = rows[-1]["macs"]
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(reds_macs, reds_acc, "k^--", label="REDS (published, 250 epochs)")
ax.plot([r["macs"] / dense_macs for r in rows], [100 * r["accuracy"] for r in rows], "o-",
        label=f"keras-subnets float ({PRETRAIN + JOINT} epochs)")
ax.plot([r["macs"] / dense_macs for r in rows], [100 * a for a in int8_acc], "s:",
        label="keras-subnets int8 (KS_* kernels, TFLM)")
ax.set_xlabel("MACs (fraction of dense)")
ax.set_ylabel("test accuracy (%)")
ax.grid(True, alpha=0.3)
ax.legend()
plt.show()
"""),
]

if __name__ == "__main__":
    write_notebook(Path(__file__).with_name("02_reds_knapsack.ipynb"), CELLS)
