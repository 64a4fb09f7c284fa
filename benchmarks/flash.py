# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Flash of a whole firmware: the plain model on stock TFLM + CMSIS-NN against the keras-subnets file,
with every kernel and with only the kernels the file needs (Cortex-M4 / M7).

For the files of `benchmarks.whole_model` (quickstart CNN and MLP 784→256→10 in each mask kind,
DS-CNN S structured; 4 levels, int8), the whole-model harness (`tflm_ops/firmware`) is linked four times:
around the plain densest model as TensorFlow converts it (TFLM's builtin kernels with CMSIS-NN), and
around the keras-subnets file as built (every weight format, float32 kernels too), int8 only
(`-DKS_NO_FLOAT32`), and with the flags `keras-subnets export-c` prints for the file
(`keras_subnets.firmware.modelfile.firmware_defines`: `-DKS_FORMATS=<the file's formats>`,
`-DKS_NO_FLOAT32`). Each image runs under QEMU; every level of the trimmed one is checked bit-exact
against the tflite-micro wheel. Writes the `flash` section of docs/benchmarks.md with --write.

    python -m benchmarks.flash [--cpus m4,m7] [--models quickstart,ds_cnn_s,mlp]
        [--kinds unstructured,row,block,structured] [--write]

Needs a TFLM tree with its downloads ($TFLM_ROOT, else ../shared/tflm/tflite-micro).
"""

from __future__ import annotations

import numpy as np
from absl import app

from benchmarks import report
from benchmarks.whole_model import CPUS, KERNEL_OBJECTS, NAMES, WRITE, chosen_models, files, image, progress


def firmware(blob: bytes, cpu: str, x: np.ndarray, defines: list[str]):
    """(flash bytes of the image, flash per component, outputs) of the harness around ``blob``."""
    from keras_subnets.firmware import runner, size

    fw = runner.build_firmware(blob, cpu, x, ks_defines=defines)
    res = runner.run_firmware(fw)
    return res.flash_bytes, size.sizes_by_family(fw.elf.with_suffix(".map"), KERNEL_OBJECTS), res.outputs


def ks_code(families: dict[str, int]) -> int:
    return sum(v for f, v in families.items() if f.startswith("keras-subnets"))


def measure(name: str, blobs: dict[str, bytes], cpu: str, x: np.ndarray) -> list[str]:
    from keras_subnets import tflm
    from keras_subnets.firmware import modelfile

    defines = modelfile.firmware_defines(blobs["ks"])
    progress(f"{name} on {cpu}: plain, as built, int8 only, {' '.join(defines)}")
    plain, _, _ = firmware(blobs["plain_mean"], cpu, x, [])
    built, built_parts, _ = firmware(blobs["ks"], cpu, x, [])
    lean, lean_parts, _ = firmware(blobs["ks"], cpu, x, ["-DKS_NO_FLOAT32"])
    trimmed, trimmed_parts, outputs = firmware(blobs["ks"], cpu, x, defines)
    reference = tflm.run_levels(blobs["ks"], x)
    exact = all(np.array_equal(outputs[k], reference[k]) for k in reference)
    if not exact:
        raise AssertionError(f"{name} on {cpu}: the trimmed firmware's outputs differ from the wheel's")
    return [name, cpu.upper(), f"{len(blobs['plain_mean']):,} / {len(blobs['ks']):,}", f"{plain:,}",
            f"{built:,} ({built / plain:.2f})", f"{lean:,} ({lean / plain:.2f})",
            f"**{trimmed:,} ({trimmed / plain:.2f})**", f"{ks_code(built_parts):,} / {ks_code(lean_parts):,} / "
            f"{ks_code(trimmed_parts):,}", "`" + " ".join(defines) + "`", "yes" if exact else "NO"]


def main(argv):
    del argv
    from keras_subnets.firmware import build

    root = build.find_tflm_root()
    x = image()
    rows = []
    for which, kind in chosen_models():
        name = f"{NAMES[which]} {kind}"
        progress(f"{name}: converting (4 levels) and the plain baseline")
        blobs = files(which, kind)
        rows += [measure(name, blobs, cpu, x) for cpu in CPUS.value]
    header = ["model", "CPU", "model bytes: plain / keras-subnets", "plain firmware (stock TFLM + CMSIS-NN)",
              "keras-subnets firmware, every kernel (÷ plain)", "int8 only (÷ plain)",
              "only this file's kernels (÷ plain)", "keras-subnets operators' code: every / int8 / this file's",
              "flags", "bit-exact"]
    table = report.markdown_table(header, rows)
    print(table)
    if WRITE.value:
        body = "\n".join([
            report.provenance(),
            f"- TFLM tree: {root} (tree id {build.tree_id(root)}), Debian arm-none-eabi-gcc, images run under "
            "QEMU",
            "",
            "Flash bytes of the whole image (loaded sections of the ELF: TFLM, kernels, the model, runtime and "
            "the harness' start-up) of the whole-model harness (`tflm_ops/firmware`) around each file. *plain* is "
            "the densest level as TensorFlow converts it (GlobalAveragePooling2D → MEAN), the file a user ships "
            "today, with TFLM's builtin kernels and CMSIS-NN. The keras-subnets file (4 levels, int8) is linked "
            "with every keras-subnets kernel, int8 only (`-DKS_NO_FLOAT32`), and with the flags `keras-subnets "
            "export-c` prints for the file (`-DKS_FORMATS`: only its weight formats' kernels; "
            "`tflm_ops/include/ks_ops.h`); every level of the last image gave outputs bit-exact with the "
            "tflite-micro wheel. The operators' code is the keras-subnets families of the linker map (kernels, "
            "plans and validation, TFLM glue). The images hold the same harness (the runner's start-up, I/O and "
            "profiler), so the differences, more than the ratios, are what the nested file costs an application.",
            "",
            table,
        ])
        report.write_section("flash", "Flash: the whole firmware against the plain model", body)
    progress("done")


if __name__ == "__main__":
    app.run(main)
