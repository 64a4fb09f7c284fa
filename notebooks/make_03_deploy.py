# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Source of notebooks/03_deploy.ipynb (run this file to regenerate it)."""

from pathlib import Path

from _builder import write_notebook  # notebooks/_builder.py, beside this file

CELLS = [
    ("md", """
# Deploy: one flatbuffer for every level

Convert a nested model into **one** int8 `.tflite` file whose custom operators
(`KS_CONV_2D`, `KS_DEPTHWISE_CONV_2D`, `KS_FULLY_CONNECTED`) store every level's
weights once, with one extra model input `subnet` that selects the level.
Then check every level against Keras through the reference path: `densify`
turns a level into standard builtin operators, which TFLite Micro's own
kernels run (the `tflite-micro` wheel's interpreter).

`KS_NOTEBOOK_FAST=1` runs it on a small slice (the test suite does).
"""),
    ("code", """
import os
import keras
import numpy as np
import matplotlib.pyplot as plt
from tflite_micro.python.tflite_micro import runtime
import keras_subnets as ks
from keras_subnets.convert import convert, densify, plain_model, read_levels
from keras_subnets.convert.tf_convert import tf_convert
from keras_subnets.demo import load_scaled

FAST = os.environ.get("KS_NOTEBOOK_FAST") == "1"
(x_train, y_train), (x_test, y_test) = load_scaled(
    train_samples=2000 if FAST else None, test_samples=300 if FAST else 2000)
keras.utils.set_random_seed(0)
"""),
    ("md", "## 1. Train a nested model (as in the quickstart)"),
    ("code", """
LEVELS = [0.9, 0.75, 0.5, 0.0]
base = ks.zoo.quickstart_cnn()
base.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
base.fit(x_train, y_train, batch_size=128, epochs=1 if FAST else 3, verbose=2)
model = ks.nest(base, LEVELS, kind="unstructured")
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
steps = len(x_train) // 128
schedule = ks.schedules.PolynomialDecay(0.0, 0.9, 0, max(1, steps // 2), frequency=max(1, steps // 20))
model.fit(x_train, y_train, batch_size=128, epochs=1 if FAST else 4, verbose=2,
          callbacks=[ks.MaskScheduler(schedule), ks.RecalibrateBatchNorm(x_train)])
keras_rows = ks.evaluate_levels(model, x_test, y_test)
"""),
    ("md", """
## 2. Convert: every level in one file

int8 calibration runs TensorFlow's converter once per level and keeps, for
every activation, a range that covers all levels. The measured accuracy goes
into the file's level table, where firmware can read it.
"""),
    ("code", """
blob = convert(model, x_train[:200], quantize="int8", accuracy=[r["accuracy"] for r in keras_rows])
with open("quickstart_nested.tflite", "wb") as f:
    f.write(blob)
table = read_levels(blob)
for row in table["levels"]:
    print(row)
"""),
    ("md", "## 3. Storage: one nested file against one file per level"),
    ("code", """
samples = [s[None] for s in x_train[:32]]
separate = [len(tf_convert(plain_model(model, k), samples)) for k in range(len(LEVELS))]
sizes = {"keras-subnets, 4 levels in one file": len(blob),
         "4 separate .tflite files": sum(separate),
         "one dense .tflite file": separate[-1]}
for name, size in sizes.items():
    print(f"{name:40s} {size:>9,} bytes")
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(sizes), [s / 1024 for s in sizes.values()])
ax.set_xlabel("flash (KiB)")
ax.invert_yaxis()
plt.show()
"""),
    ("md", """
## 4. Every level through TFLite Micro's reference kernels

`densify(blob, k)` materialises level *k* as builtin `CONV_2D` /
`DEPTHWISE_CONV_2D` / `FULLY_CONNECTED` operators with exactly the integer
weights and requantization of the custom operator; the wheel's interpreter runs
them. The int8 outputs should match Keras's float outputs to about one
quantization step.
"""),
    ("code", """
def run(model_bytes, x):
    interp = runtime.Interpreter.from_bytes(model_bytes)
    qin = interp.get_input_details(0)["quantization_parameters"]
    qout = interp.get_output_details(0)["quantization_parameters"]
    out = []
    for sample in x:
        q = np.clip(np.round(sample[None] / qin["scales"][0] + qin["zero_points"][0]), -128, 127)
        interp.set_input(q.astype(np.int8), 0)
        interp.invoke()
        out.append((interp.get_output(0)[0].astype(np.float32) - qout["zero_points"][0]) * qout["scales"][0])
    return np.array(out)

x_eval, y_eval = x_test[:100 if FAST else 500], y_test[:100 if FAST else 500]
tflm_rows = []
for k in range(len(LEVELS)):
    tflm = run(densify(blob, k), x_eval)
    with ks.level(model, k):
        ref = model.predict(x_eval, verbose=0)
    tflm_rows.append({"level": k, "int8 accuracy": float(np.mean(np.argmax(tflm, 1) == y_eval)),
                      "float accuracy": float(np.mean(np.argmax(ref, 1) == y_eval)),
                      "max |int8 - float|": float(np.abs(tflm - ref).max())})
    print(tflm_rows[-1])
"""),
    ("code", """
fig, ax = plt.subplots(figsize=(6, 4))
macs = [r["macs"] / 1e3 for r in table["levels"]]
ax.plot(macs, [100 * r["float accuracy"] for r in tflm_rows], "o-", label="Keras float32")
ax.plot(macs, [100 * r["int8 accuracy"] for r in tflm_rows], "s--", label="int8 in TFLite Micro (reference kernels)")
ax.set_xlabel("MACs per image (thousands)")
ax.set_ylabel("accuracy (%)")
ax.grid(True, alpha=0.3)
ax.legend()
plt.show()
"""),
    ("md", """
## 5. The custom operators themselves: one interpreter, any level

`keras_subnets.tflm.make_interpreter` builds the host adapter of the `KS_*`
operators (the same C/C++ code the firmware links, `tflm_ops/`) with the
system compiler on first use and registers it with the wheel's interpreter.
One interpreter holds the whole file; writing a level into input 1
(`subnet`) before `invoke()` is all it takes to switch. The int8 outputs are
bit-exact with the densified reference of section 4.
"""),
    ("code", """
from keras_subnets.tflm import make_interpreter, run_levels

interp = make_interpreter(blob)
qin = interp.get_input_details(0)["quantization_parameters"]
image = np.clip(np.round(x_eval[:1] / qin["scales"][0] + qin["zero_points"][0]), -128, 127).astype(np.int8)
for k in range(len(LEVELS)):
    interp.set_input(image, 0)
    interp.set_input(np.array([k], np.int32), 1)   # the level
    interp.invoke()
    print(f"level {k}: predicted class {int(np.argmax(interp.get_output(0)[0]))}")

x_ops = x_eval[:20 if FAST else 100]
custom = run_levels(blob, x_ops)                    # {level: raw int8 outputs}
for k in range(len(LEVELS)):
    ref = runtime.Interpreter.from_bytes(densify(blob, k))
    rows = []
    for sample in x_ops:
        ref.set_input(np.clip(np.round(sample[None] / qin["scales"][0] + qin["zero_points"][0]),
                              -128, 127).astype(np.int8), 0)
        ref.invoke()
        rows.append(ref.get_output(0)[0])
    print(f"level {k}: KS_* operators == densified reference: {np.array_equal(custom[k], np.array(rows))}")
"""),
    ("code", """
# A level the file does not have is refused by the operator, with its message.
interp.set_input(np.array([len(LEVELS)], np.int32), 1)
try:
    interp.invoke()
except RuntimeError as err:
    print("RuntimeError:", err)
"""),
]


CELLS += [
    ("md", """
## 6. Accuracy against Cortex-M4 instructions

`ks.profile` builds this file into a real TensorFlow Lite Micro firmware
(TFLM + CMSIS-NN for the builtins, the `KS_*` operators), runs every level
under QEMU (`mps2-an386`, Cortex-M4) and counts the exact instructions of each
whole `Invoke()` (`keras-subnets profile FILE --target m4` does the same from
the shell). It needs a TFLM tree with its downloads (`$TFLM_ROOT`); without
one it says so and the plot falls back to MACs.
"""),
    ("code", """
from keras_subnets.firmware.build import TflmNotFoundError, ToolchainMissingError

try:
    measured = ks.profile(blob, "m4")
    print(measured.table())
    cost = [row.instructions / 1e6 for row in measured.levels]
    xlabel = "Cortex-M4 instructions per Invoke() (millions, whole model, TFLM + CMSIS-NN)"
except (TflmNotFoundError, ToolchainMissingError) as err:
    print(f"no firmware measurement: {err}; plotting MACs instead")
    cost = [row["macs"] / 1e6 for row in read_levels(blob)["levels"]]
    xlabel = "MACs per image (millions)"
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(cost, [100 * r["int8 accuracy"] for r in tflm_rows], "o-")
for k in range(len(LEVELS)):
    ax.annotate(f"level {k}", (cost[k], 100 * tflm_rows[k]["int8 accuracy"]), textcoords="offset points",
                xytext=(5, -12))
ax.set_xlabel(xlabel)
ax.set_ylabel("int8 accuracy (%)")
ax.grid(True, alpha=0.3)
plt.show()
"""),
]

if __name__ == "__main__":
    write_notebook(Path(__file__).with_name("03_deploy.ipynb"), CELLS)
