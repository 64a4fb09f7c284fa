# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Whole-model Invoke() instructions per level on real TFLite Micro + CMSIS-NN (Cortex-M4 / M7, QEMU).

For the quickstart CNN and an MLP 784→256→10 nested in each mask kind
(unstructured, row, block, structured) and DS-CNN S (structured), 4 levels (sparsity 0.9 / 0.75 / 0.5 / 0),
int8, every level with its own BatchNorm statistics as after training: the
keras-subnets file is built into the whole-model harness (tflm_ops/firmware)
and run at every level under QEMU with exact instruction counts, next to the
baselines measured in the same run on stock TFLM + CMSIS-NN:

- plain (MEAN): the plain int8 densest model as users ship it (TensorFlow's
  converter turns GlobalAveragePooling2D into MEAN);
- plain (AVG): the same with the pooling as AVERAGE_POOL_2D + RESHAPE (what
  the keras-subnets file uses, `keras_subnets.convert.pooling`);
- densified: each level written as a plain file (masked weights as zeros,
  builtin CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED).

Every output of the keras-subnets file is checked bit-exact against the
tflite-micro wheel. Writes the `whole_model` section of docs/benchmarks.md
with --write.

    python -m benchmarks.whole_model [--cpus m4,m7] [--models quickstart,ds_cnn_s,mlp]
        [--kinds unstructured,row,block,structured] [--nodensified] [--write]

Needs a TFLM tree with its downloads ($TFLM_ROOT, else ../shared/tflm/tflite-micro).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from absl import app, flags

ROOT = Path(__file__).resolve().parents[1]

from benchmarks import report  # noqa: E402

CPUS = flags.DEFINE_list("cpus", ["m4", "m7"], "CPUs to measure (m4, m7).")
MODELS = flags.DEFINE_list("models", ["quickstart", "ds_cnn_s", "mlp"], "Models (quickstart, ds_cnn_s, mlp).")
KINDS = flags.DEFINE_list("kinds", ["unstructured", "row", "block", "structured"],
                          "Mask kinds of the quickstart CNN and the MLP.")
DENSIFIED = flags.DEFINE_bool("densified", True, "Also run each level densified into a plain file.")
WRITE = flags.DEFINE_bool("write", False, "Write the tables into docs/benchmarks.md.")

LEVELS = [0.9, 0.75, 0.5, 0.0]
START = time.time()


def progress(message: str) -> None:
    print(f"[{time.time() - START:6.0f} s] {message}", file=sys.stderr, flush=True)


def image() -> np.ndarray:
    try:
        from keras_subnets.demo import load_scaled

        _, (x_test, _) = load_scaled(train_samples=1, test_samples=1)
        return x_test[:1]
    except Exception:  # noqa: BLE001 - without the data set a random image measures the same code
        return np.random.default_rng(0).random((1, 28, 28, 1)).astype(np.float32)


def mlp_784_256_10():
    """The MLP of issue 14 (as benchmarks/storage.py): Flatten, Dense 256 ReLU, Dense 10 softmax.

    Batch 1 fixed, so TensorFlow's converter writes the plain model's Flatten as one RESHAPE (with a free
    batch it computes the shape at run time: SHAPE, STRIDED_SLICE, PACK, which the harness does not build).
    """
    import keras

    inputs = keras.Input((28, 28, 1), batch_size=1, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Dense(256, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="mlp_784_256_10")


NAMES = {"quickstart": "quickstart", "ds_cnn_s": "DS-CNN S", "mlp": "MLP 784→256→10"}


def files(which: str, kind: str) -> dict[str, bytes]:
    """The keras-subnets file and the plain densest baselines of one model."""
    import keras

    import keras_subnets as ks
    from keras_subnets.convert import convert, plain_model
    from keras_subnets.convert.tf_convert import tf_convert
    from keras_subnets.testing import vary_batch_norm_per_level

    keras.utils.set_random_seed(0)
    base = {"quickstart": ks.zoo.quickstart_cnn, "ds_cnn_s": ks.zoo.ds_cnn_s, "mlp": mlp_784_256_10}[which]()
    model = ks.nest(base, LEVELS, kind=kind)
    vary_batch_norm_per_level(model)
    calib = np.random.default_rng(0).random((32, 28, 28, 1)).astype(np.float32)
    samples = [c[None] for c in calib]
    densest = len(LEVELS) - 1
    return {
        "ks": convert(model, calib, quantize="int8", num_calibration_samples=32, progress=False),
        "plain_mean": tf_convert(plain_model(model, densest, average_pool=False), samples),
        "plain_avg": tf_convert(plain_model(model, densest, average_pool=True), samples),
    }


def chosen_models() -> list[tuple[str, str]]:
    """(model, kind) pairs that --models and --kinds select (DS-CNN S: structured only)."""
    models = [("quickstart", kind) for kind in KINDS.value if "quickstart" in MODELS.value]
    if "ds_cnn_s" in MODELS.value:
        models.append(("ds_cnn_s", "structured"))
    return models + [("mlp", kind) for kind in KINDS.value if "mlp" in MODELS.value]


def measure(name: str, blobs: dict[str, bytes], cpus: list[str], x: np.ndarray) -> dict:
    """Runs every file of one model on every CPU; returns the counts."""
    from keras_subnets import tflm
    from keras_subnets.convert import densify, read_levels
    from keras_subnets.firmware import runner

    out = {"levels": read_levels(blobs["ks"])["levels"], "bytes": {k: len(v) for k, v in blobs.items()}}
    reference = tflm.run_levels(blobs["ks"], x)
    for cpu in cpus:
        progress(f"{name}: keras-subnets file on {cpu}")
        res = runner.run(blobs["ks"], cpu, x, profile=True)
        exact = all(np.array_equal(res.outputs[k], reference[k]) for k in reference)
        if not exact:
            raise SystemExit(f"{name} on {cpu}: outputs differ from the tflite-micro wheel")
        out[cpu, "ks"] = res
        for base in ("plain_mean", "plain_avg"):
            progress(f"{name}: {base} on {cpu}")
            out[cpu, base] = runner.run(blobs[base], cpu, x, profile=True)
        if DENSIFIED.value:
            for k in range(len(LEVELS)):
                progress(f"{name}: level {k} densified on {cpu}")
                out[cpu, "densified", k] = runner.run(densify(blobs["ks"], k), cpu, x)
    return out


def count(res, level: int = 0) -> int:
    return res.invoke_instructions[level][0]


def level_table(name: str, m: dict, cpus: list[str]) -> list[list[str]]:
    rows = []
    for cpu in cpus:
        ks_res, mean, avg = m[cpu, "ks"], m[cpu, "plain_mean"], m[cpu, "plain_avg"]
        for base, label in ((mean, "plain (MEAN)"), (avg, "plain (AVG)")):
            rows.append([name, cpu.upper(), label, "–", f"{count(base):,}", f"{count(base) / count(mean):.2f}",
                         f"{count(base) / count(avg):.2f}", "", f"{base.arena_bytes:,}", f"{base.flash_bytes:,}",
                         f"{base.model_bytes:,}"])
        for k, row in enumerate(m["levels"]):
            n = count(ks_res, k)
            dens = m.get((cpu, "densified", k))
            rows.append([name, cpu.upper(), f"level {k}", f"{row['sparsity']:.3f}", f"{n:,}",
                         f"**{n / count(mean):.2f}**", f"**{n / count(avg):.2f}**",
                         f"{n / count(dens):.2f}" if dens else "–", f"{ks_res.arena_bytes:,}",
                         f"{ks_res.flash_bytes:,}", f"{ks_res.model_bytes:,}"])
    return rows


def op_table(name: str, m: dict, cpus: list[str]) -> str:
    """Per-operator instructions: plain (AVG) and the sparsest / densest level, side by side."""
    last = len(LEVELS) - 1
    header = ["#", "operator (keras-subnets / plain)"]
    for cpu in cpus:
        header += [f"plain (AVG) {cpu.upper()}", f"level 0 {cpu.upper()}", f"level {last} {cpu.upper()}"]
    first = m[cpus[0], "ks"].profile
    plain_first = m[cpus[0], "plain_avg"].profile[0]
    rows = []
    for i, (op, _) in enumerate(first[0]):
        plain_op = plain_first[i][0] if i < len(plain_first) else "–"
        row = [str(i), op if op == plain_op else f"{op} / {plain_op}"]
        for cpu in cpus:
            ks_prof, plain_prof = m[cpu, "ks"].profile, m[cpu, "plain_avg"].profile[0]
            row += [f"{plain_prof[i][1]:,}" if i < len(plain_prof) else "–", f"{ks_prof[0][i][1]:,}",
                    f"{ks_prof[last][i][1]:,}"]
        rows.append(row)
    total = ["", "whole Invoke()"]
    for cpu in cpus:
        total += [f"{count(m[cpu, 'plain_avg']):,}", f"{count(m[cpu, 'ks'], 0):,}", f"{count(m[cpu, 'ks'], last):,}"]
    rows.append(total)
    mean_ops = {cpu: dict(m[cpu, "plain_mean"].profile[0]).get("MEAN") for cpu in cpus}
    note = ", ".join(f"{cpu.upper()} {v:,}" for cpu, v in mean_ops.items() if v)
    text = f"**{name}**" + (f" (plain (MEAN)'s MEAN operator alone: {note} instructions)" if note else "")
    return text + "\n\n" + report.markdown_table(header, rows)


KERNEL_OBJECTS = {"conv", "depthwise_conv", "fully_connected", "pooling", "reshape", "softmax", "reduce",
                  "leaky_relu", "kernel_util", "micro_tensor_utils"}


def code_size(name: str, blob: bytes, cpus: list[str], x: np.ndarray) -> str:
    """Flash bytes per component of the firmware for ``blob``, as built and with -DKS_NO_FLOAT32."""
    from keras_subnets.firmware import runner, size

    columns, totals, images = [], [], []
    for cpu in cpus:
        for defines in ((), ("-DKS_NO_FLOAT32",)):
            progress(f"code size: {name} on {cpu} {' '.join(defines)}")
            fw = runner.build_firmware(blob, cpu, x, ks_defines=defines)
            res = runner.run_firmware(fw)
            columns.append(size.sizes_by_family(fw.elf.with_suffix(".map"), KERNEL_OBJECTS))
            totals.append(sum(columns[-1].values()))
            images.append(res.flash_bytes)
    labels = [f"{cpu.upper()}{' KS_NO_FLOAT32' if d else ''}" for cpu in cpus for d in (0, 1)]
    families = sorted({f for c in columns for f in c}, key=lambda f: -columns[0].get(f, 0))
    rows = [[f, *(f"{c.get(f, 0):,}" for c in columns)] for f in families]
    ks = [sum(v for f, v in c.items() if f.startswith("keras-subnets")) for c in columns]
    rows.append(["**keras-subnets operators, total**", *(f"**{v:,}**" for v in ks)])
    rows.append(["sum of the map's input sections", *(f"{v:,}" for v in totals)])
    rows.append(["image (loaded sections of the ELF)", *(f"{v:,}" for v in images)])
    return report.markdown_table(["component", *labels], rows)


def main(argv):
    del argv
    from keras_subnets.firmware import build

    cpus = CPUS.value
    for cpu in cpus:
        build.get_target(cpu)
    root = build.find_tflm_root()
    x = image()
    results = {}
    for which, kind in chosen_models():
        name = f"{NAMES[which]} {kind}"
        progress(f"{name}: converting (4 levels) and the plain baselines")
        blobs = files(which, kind)
        results[name] = measure(name, blobs, cpus, x)
        results[name]["blob"] = blobs["ks"]

    header = ["model", "CPU", "file / level", "sparsity", "Invoke() instructions", "/ plain (MEAN)",
              "/ plain (AVG)", "/ same level densified", "arena bytes", "flash bytes", "model bytes"]
    rows = [row for name, m in results.items() for row in level_table(name, m, cpus)]
    table = report.markdown_table(header, rows)
    print(table)
    ops = "\n\n".join(op_table(name, m, cpus) for name, m in results.items())
    print(ops)
    first = next(iter(results))
    sizes = code_size(first, results[first]["blob"], cpus, x)
    print(sizes)
    if WRITE.value:
        body = "\n".join([
            report.provenance(),
            f"- TFLM tree: {root} (tree id {build.tree_id(root)}), Debian arm-none-eabi-gcc, QEMU "
            "mps2-an386 (M4) / mps2-an500 (M7), exact instruction counts (ks_icount plugin)",
            "",
            "One whole `Invoke()` per level on one Fashion-MNIST test image, in the whole-model firmware "
            "(`tflm_ops/firmware`: real TFLM, CMSIS-NN kernels for the builtins, the KS_* operators at -O2; "
            "`keras-subnets profile` measures the same). Every level of every keras-subnets file gave outputs "
            "bit-exact with the tflite-micro wheel. Baselines, measured in the same run on stock TFLM + CMSIS-NN: "
            "*plain (MEAN)* is the plain int8 densest model as TensorFlow converts it (GlobalAveragePooling2D → "
            "MEAN, TFLM's reference int8 MEAN); *plain (AVG)* the same model with the pooling as "
            "AVERAGE_POOL_2D + RESHAPE (CMSIS-NN's avgpool), as the keras-subnets file has it; *same level "
            "densified* is that level written as a plain file (its zeros computed by CMSIS-NN's dense kernels). "
            "Levels: target sparsity 0.9 / 0.75 / 0.5 / 0 (the sparsity column is measured over the pruned "
            "layers' weights); untrained random weights (magnitude masks), per-level BatchNorm statistics as "
            "after training. Arena: `arena_used_bytes()`; flash: the whole image (TFLM, operators, model).",
            "",
            table,
            "",
            "Per operator (TFLM's `MicroProfilerInterface`, exact instructions between an operator's begin and "
            "end event; the whole `Invoke()` adds the interpreter's loop), sparsest and densest level against the "
            "plain (AVG) model:",
            "",
            ops,
            "",
            f"Flash per component of the firmware for the {first} file (GNU ld map: each kept input "
            "section attributed to its object; merged strings are counted before merging, so the sum "
            "slightly exceeds the image), as built and with `-DKS_NO_FLOAT32` (an int8-only firmware "
            "leaves the float32 kernels out; a float32 file is then refused in `AllocateTensors`):",
            "",
            sizes,
        ])
        report.write_section("whole_model", "Whole model on TFLite Micro + CMSIS-NN (Cortex-M4 / M7)", body)
    progress("done")


if __name__ == "__main__":
    app.run(main)
