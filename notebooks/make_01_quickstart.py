# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Source of notebooks/01_quickstart.ipynb (run this file to regenerate it)."""

from pathlib import Path

from _builder import write_notebook  # notebooks/_builder.py, beside this file

CELLS = [
    ("md", """
# Quickstart: one model, four nested sub-networks

Train a small CNN on **real Fashion-MNIST** (read from Debian's
`dataset-fashion-mnist`, nothing is downloaded), turn it into a model holding
four nested levels — 90 %, 75 %, 50 % sparse and dense — train all of them in
one `model.fit`, and compare accuracy with cost per level.

Set `KS_NOTEBOOK_FAST=1` to run on a small slice (the test suite does).
"""),
    ("code", """
import os
import keras
import matplotlib.pyplot as plt
import keras_subnets as ks
from keras_subnets.demo import load_scaled

FAST = os.environ.get("KS_NOTEBOOK_FAST") == "1"
(x_train, y_train), (x_test, y_test) = load_scaled(
    train_samples=2000 if FAST else None, test_samples=1000 if FAST else None)
PRETRAIN_EPOCHS, EPOCHS = (1, 1) if FAST else (3, 6)
keras.utils.set_random_seed(0)
print(x_train.shape, x_test.shape)
"""),
    ("md", "## 1. A plain Keras model, trained dense"),
    ("code", """
base = ks.zoo.quickstart_cnn()
base.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
base.fit(x_train, y_train, batch_size=128, epochs=PRETRAIN_EPOCHS, verbose=2)
base.summary()
"""),
    ("md", """
## 2. Nest it

`ks.nest` swaps every `Conv2D`, `DepthwiseConv2D`, `Dense` and
`BatchNormalization` for its sub-network version and keeps the trained
weights. Levels are named by sparsity, sparsest first. Each BatchNorm keeps
statistics per level.

Two choices that matter at high sparsity (measured in `docs/benchmarks.md`):
`layers=` leaves the 3×3 depthwise kernels dense in every level, as tfmot
does (9 weights per channel: pruning them costs accuracy and saves little);
`inner_gradient=0.1` lets each level send only a tenth of its gradient to the
weights of the smaller levels, so the dense levels do not pull the sparse
levels' few weights towards what suits them.
"""),
    ("code", """
LEVELS = [0.9, 0.75, 0.5, 0.0]
pruned = ks.tfmot_prunable_layers(base)  # Conv2D and Dense: depthwise kernels stay dense, as in tfmot
model = ks.nest(base, LEVELS, kind="unstructured", layers=pruned, inner_gradient=0.1)
model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
print([type(layer).__name__ for layer in model.layers])
"""),
    ("md", """
## 3. Train every level jointly

Each step runs all four levels on the batch and minimises Σ wₖ·Lₖ; a weight
outside level *k* gets no gradient from Lₖ. The masks grow from dense to
their targets over the first half epoch (tfmot's `PolynomialDecay`
semantics), then freeze. `RecalibrateBatchNorm` re-estimates every level's
BatchNorm statistics before each validation and at the end (moving averages
lag behind at the sparse levels).
"""),
    ("code", """
steps = len(x_train) // 128
schedule = ks.schedules.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=max(1, steps // 2),
                                        frequency=max(1, steps // 20))
history = model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=2,
                    validation_data=(x_test, y_test),
                    callbacks=[ks.MaskScheduler(schedule), ks.RecalibrateBatchNorm(x_train)])
"""),
    ("md", "## 4. Every level on the test set"),
    ("code", """
rows = ks.evaluate_levels(model, x_test, y_test)
"""),
    ("code", """
fig, ax = plt.subplots(figsize=(6, 4))
macs = [r["macs"] / 1e3 for r in rows]
acc = [100 * r["accuracy"] for r in rows]
ax.plot(macs, acc, "o-", label="nested levels (one model)")
for r, m, a in zip(rows, macs, acc, strict=True):
    ax.annotate(f"{r['sparsity']:.0%} sparse", (m, a), textcoords="offset points", xytext=(5, -12))
ax.set_xlabel("MACs per image (thousands)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("Fashion-MNIST: accuracy against cost, per level")
ax.grid(True, alpha=0.3)
ax.legend()
plt.show()
"""),
    ("md", "## 5. Switching levels and saving"),
    ("code", """
ks.set_level(model, 0)                 # sparsest
print("level 0:", model.evaluate(x_test, y_test, verbose=0))
with ks.level(model, -1):              # densest, restored afterwards
    print("level 3:", model.evaluate(x_test, y_test, verbose=0))
model.save("quickstart_nested.keras")
restored = keras.models.load_model("quickstart_nested.keras")
print("restored level", ks.get_level(restored), restored.evaluate(x_test, y_test, verbose=0))
"""),
]

if __name__ == "__main__":
    write_notebook(Path(__file__).with_name("01_quickstart.ipynb"), CELLS)
