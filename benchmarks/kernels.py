# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Instruction counts of the tflm_ops kernels per level on Cortex-M4 / M7 (QEMU).

Builds bare-metal images with tflm_ops/cortex_m (gcc -O2, DSP loops on), runs
them in qemu-system-arm with the exact instruction-counting plugin, checks
every output against the host build of the same core (int8 bit-exact), and
prints tables:

1. dense, per layer (FC 256->256, 1x1 conv 14x14x64->64, 3x3 conv 14x14x32->32,
   the quickstart CNN's 3x3/2 stem conv 28x28x1->32, depthwise 3x3 14x14x64):
   CMSIS-NN's own kernel called as TFLM's cmsis_nn operators call it (the
   plain model's cost), our ks_dense kernels built with -DKS_CMSIS_NN and
   portable, all in the same image and run, each checked against the numpy
   oracle of TFLM's reference arithmetic;
2. the same layers at 90/75/50/0 % sparsity in every nested format, as
   ratios to CMSIS-NN;
3. the per-call cost that does not depend on the layer size (switching level);
4. whole models: the quickstart CNN nested in each mask kind and REDS DS-CNN S
   (structured), converted to int8 .tflite; every KS_* operator of the file is
   run with its own arrays, the counts summed per level, with peak scratch.

    python -m benchmarks.kernels [--cpus m4,m7] [--nomodels] [--write]

CMSIS-NN comes from $TFLM_ROOT's make downloads (tensorflow/lite/micro/tools/
make/downloads/cmsis_nn), or --cmsis_nn_root; it is compiled, never copied.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from absl import app, flags

ROOT = Path(__file__).resolve().parents[1]

from benchmarks import report  # noqa: E402
from keras_subnets.firmware import dense_image as di  # noqa: E402
from keras_subnets.firmware import kernel_image as ki  # noqa: E402

kb = ki.kb

FLAGS = flags.DEFINE_list("cpus", ["m4", "m7"], "CPUs to measure (m4, m7).")
MODELS = flags.DEFINE_bool("models", True, "Also measure the quickstart CNN and DS-CNN S.")
WRITE = flags.DEFINE_bool("write", False, "Write the tables into docs/benchmarks.md.")
NN_ROOT = flags.DEFINE_string(
    "cmsis_nn_root", None, "CMSIS-NN tree (default: $TFLM_ROOT/tensorflow/lite/micro/tools/make/downloads/cmsis_nn)."
)

SPARSITY = (0.9, 0.75, 0.5, 0.0)  # levels 0..3
DENSITY = tuple(1.0 - s for s in SPARSITY)

# name, op, x shape, y shape, rows, cols, in channels, (kernel, stride, padding)
LAYERS = {
    "fc": ("FC 256→256", "fc", (1, 256), (1, 256), 256, 256, 256, None),
    "pw": ("1×1 conv 14×14×64→64", "conv", (1, 14, 14, 64), (1, 14, 14, 64), 64, 64, 64, ((1, 1), (1, 1), "valid")),
    "c3": ("3×3 conv 14×14×32→32", "conv", (1, 14, 14, 32), (1, 14, 14, 32), 32, 288, 32, ((3, 3), (1, 1), "same")),
    "stem": ("3×3/2 stem conv 28×28×1→32", "conv", (1, 28, 28, 1), (1, 14, 14, 32), 32, 9, 1, ((3, 3), (2, 2), "same")),
    "dw": ("DW 3×3 14×14×64", "depthwise_conv", (1, 14, 14, 64), (1, 14, 14, 64), 64, 9, 64, ((3, 3), (1, 1), "same")),
}
DENSE_KERNELS = ("cmsis_nn", "ks_dense", "ks_dense_plan", "ks_dense_portable")


def _geometry(key):
    _, op, xs, _, _, _, _, g = LAYERS[key]
    if g is None:
        return None
    geom, _ = di.same_geometry(xs[1:3], g[0], g[1], padding=g[2], depth_multiplier=int(op == "depthwise_conv"))
    return geom


def dense_layers():
    """The layers as plain dense int8 layers, plus a 1-weight FC for the per-call cost."""
    rng = np.random.default_rng(7)
    out = []
    for key, (_name, op, xs, ys, _rows, _cols, _cin, _g) in LAYERS.items():
        out.append(di.random_layer(key, op, xs, ys, _geometry(key), rng))
    out.append(di.random_layer("switch", "fc", (1, 1), (1, 1), None, rng))
    return out


def _nn_version(root: str) -> str:
    """The CMSIS-NN commit TFLM's download script pins, when the tree is TFLM's download."""
    script = Path(root).parents[1] / "ext_libs" / "cmsis_nn_download.sh"
    if script.is_file():
        for line in script.read_text().splitlines():
            if line.startswith("ZIP_PREFIX_NN="):
                return "commit " + line.split("=", 1)[1].strip('"')[:10] + " (TFLM's pinned download)"
    return f"tree at {root}"


def cmsis_nn_root() -> str:
    root = NN_ROOT.value
    if root is None:
        tflm = os.environ.get("TFLM_ROOT")
        if not tflm:
            raise SystemExit("set TFLM_ROOT (a tflite-micro tree with its make downloads) or --cmsis_nn_root")
        root = str(Path(tflm) / "tensorflow" / "lite" / "micro" / "tools" / "make" / "downloads" / "cmsis_nn")
    if not (Path(root) / "Include" / "arm_nnfunctions.h").is_file():
        raise SystemExit(f"no CMSIS-NN at {root}")
    return root


def _progress(msg):
    print(f"\r{msg:<78}", end="", file=sys.stderr, flush=True)


def layer_cases():
    """Every layer in every format, unplanned and through a ks_plan (same
    seed, so the same matrix), then the per-call cost cases."""
    cases = []
    for key, (_name, op, xs, ys, rows, cols, cin, _g) in LAYERS.items():
        dg = _geometry(key)
        geom = None if dg is None else kb.ConvGeometry(**vars(dg))
        for fmt in ki.FORMATS:
            seed = len(cases) + 1
            for planned in (False, True):
                cases.append(
                    ki.Case(
                        key,
                        op,
                        "int8",
                        fmt,
                        xs,
                        ys,
                        rows,
                        cols,
                        cin,
                        geometry=geom,
                        density=DENSITY,
                        bad_levels=(4,),
                        seed=seed,
                        planned=planned,
                    )
                )
    # Fixed per-call cost: a 1x1 FC (one MAC, one requantization) at two levels.
    for fmt in ki.FORMATS:
        for planned in (False, True):
            cases.append(
                ki.Case(
                    "switch",
                    "fc",
                    "int8",
                    fmt,
                    (1, 1),
                    (1, 1),
                    1,
                    1,
                    1,
                    density=(1.0, 1.0, 1.0, 1.0),
                    levels=(0, 3),
                    seed=99,
                    planned=planned,
                )
            )
    return cases


# ---------------------------------------------------------------------------
# Whole models
# ---------------------------------------------------------------------------


def _model_tflite(which: str, kind: str) -> bytes:
    import keras_subnets as ks
    from keras_subnets import zoo
    from keras_subnets.convert import convert

    if which == "quickstart":
        model = ks.nest(zoo.quickstart_cnn(), [0.9, 0.75, 0.5, 0.0], kind)
    else:
        model = ks.nest(zoo.ds_cnn_s(), [0.75, 0.5, 0.25, 0.0], "structured")
    rng = np.random.default_rng(0)
    calib = rng.random((32, 28, 28, 1)).astype(np.float32)
    return convert(model, calib, quantize="int8", num_calibration_samples=32, progress=False)


def _same_pad(in_size, k, stride, dil, out_size):
    return max(((out_size - 1) * stride + (k - 1) * dil + 1 - in_size), 0) // 2


def find_cmsis_nn_root() -> str | None:
    """CMSIS-NN from $TFLM_ROOT's make downloads (else ../shared/tflm), or None when absent (no flags needed)."""
    root = Path(os.environ.get("TFLM_ROOT", ROOT.parent / "shared" / "tflm" / "tflite-micro"))
    cmsis = root / "tensorflow" / "lite" / "micro" / "tools" / "make" / "downloads" / "cmsis_nn"
    return str(cmsis) if (cmsis / "Include" / "arm_nnfunctions.h").is_file() else None


def _conv_geometry(o: dict, kind: str, xs, ys, geometry):
    """The ``geometry`` (`kb.ConvGeometry` or `di.Geometry`) of a conv or depthwise conv operator's options."""
    kh, kw, sh, sw, dh, dw = (
        o[k] for k in ("kernel_h", "kernel_w", "stride_h", "stride_w", "dilation_h", "dilation_w")
    )
    ph = _same_pad(xs[1], kh, sh, dh, ys[1]) if o["padding"] == 0 else 0
    pw = _same_pad(xs[2], kw, sw, dw, ys[2]) if o["padding"] == 0 else 0
    return geometry(kh, kw, sh, sw, dh, dw, ph, pw, o["depth_multiplier"] if kind != "conv" else 0)


def _operator_nested(name: str, o: dict, arrs: list, fmt: str):
    """The `kb.Nested` weights of one KS_* operator as the core reads them from the file's arrays."""
    from keras_subnets.convert import options

    L, rows, cols = o["levels"], o["rows"], o["cols"]
    dense_top = bool(o["dense_top"])
    table = np.ascontiguousarray(arrs[4].reshape(-1))  # pointers: uint16 or int32 (format v2)
    # dense_top: a sparse format stores levels 0..L-2; structured reads every level from the dense
    # tensor (TFLite's layout: tap-major for depthwise). Format v4: an int8 sparse format reads every
    # level's values from it too.
    stored_levels = L - 1 if dense_top and fmt != "structured" else L
    from_dense = arrs[2] is None
    values = arrs[options.DENSE_INPUT] if from_dense else arrs[2]
    nested = kb.Nested(
        fmt,
        stored_levels,
        rows,
        cols,
        np.ascontiguousarray(values.reshape(-1)),
        indices=None if arrs[3] is None else np.ascontiguousarray(arrs[3].reshape(-1)),
        in_channels=o["in_channels"],
        depth_multiplier=o["depth_multiplier"],
        tap_major=int(from_dense and "DEPTHWISE" in name),
    )
    if fmt in ("nested_csr", "nested_block"):
        nested.ptr = table
    elif fmt == "row":
        nested.counts = table.astype(np.int32)
    else:
        nested.out_width, nested.in_width = table[:L].astype(np.int32), table[L:].astype(np.int32)
    return nested


def model_cases(tflite: bytes, tag: str):
    """The sparse-kernel calls of every KS_* operator: one `ki.Case` per operator and the levels it runs
    with the core's kernels (format v3: an operator with option dense_top runs its densest level with
    ks_dense_*, see `model_dense_layers`)."""
    from keras_subnets.convert import flatbuffer as fb
    from keras_subnets.convert import formats, options

    model = fb.load(tflite)
    sg = model.subgraphs[0]
    cases = []
    fmt_names = {v: k for k, v in kb.FORMATS.items()}
    for name, op in fb.custom_ops(model):
        o = options.decode(op.customOptions, name)
        t_in, t_out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
        arrs = [None if i < 0 else fb.tensor_data(model, sg.tensors[i]) for i in op.inputs]
        L, rows, cols, fmt = o["levels"], o["rows"], o["cols"], fmt_names[o["format"]]
        nested = _operator_nested(name, o, arrs, fmt)
        sparse_levels = tuple(range(L - 1 if o["dense_top"] else L))
        if not sparse_levels:
            continue
        bias, mult, shift = formats.split_tables(arrs[5], True)  # format v5: one tensor (input 5)
        params = kb.QuantParams(
            o["input_offset"],
            o["output_offset"],
            o["act_min"],
            o["act_max"],
            mult,
            shift,
            bias,
            layout=o["tables"],  # shared, per level or structured prefix, as stored (format v2)
        )
        xs, ys = tuple(int(d) for d in t_in.shape), tuple(int(d) for d in t_out.shape)
        if "FULLY" in name:
            kind, geom = "fc", None
            xs = (int(np.prod(xs)) // cols, cols)
            ys = (xs[0], rows)
        else:
            kind = "conv" if "DEPTHWISE" not in name else "depthwise_conv"
            geom = _conv_geometry(o, kind, xs, ys, kb.ConvGeometry)
        cases.append(
            ki.Case(
                f"{tag}/{name}",
                kind,
                "int8",
                fmt,
                xs,
                ys,
                rows,
                cols,
                o["in_channels"],
                geometry=geom,
                nested=nested,
                params=params,
                levels=sparse_levels,
            )
        )
    return cases



def model_dense_layers(tflite: bytes, tag: str) -> list[tuple[int, di.DenseLayer]]:
    """``(level, layer)`` of every KS_* operator whose densest level runs ks_dense_* (format v3 dense_top):
    the dense tensor as stored, that level's requantization, a random input."""
    from keras_subnets.convert import flatbuffer as fb
    from keras_subnets.convert import formats, options
    from keras_subnets.convert.densify import level_row

    model = fb.load(tflite)
    sg = model.subgraphs[0]
    layers = []
    for n, (name, op) in enumerate(fb.custom_ops(model)):
        o = options.decode(op.customOptions, name)
        if not o["dense_top"]:
            continue
        L, rows = o["levels"], o["rows"]
        arrs = [None if i < 0 else fb.tensor_data(model, sg.tensors[i]) for i in op.inputs]
        bias, mult, shift = (level_row(t, o, arrs[4], L - 1) for t in formats.split_tables(arrs[5], True))
        q = di.DenseQuant(o["input_offset"], o["output_offset"], o["act_min"], o["act_max"], mult, shift, bias)
        xs = tuple(int(d) for d in sg.tensors[op.inputs[0]].shape)
        ys = tuple(int(d) for d in sg.tensors[op.outputs[0]].shape)
        rng = np.random.default_rng(n)
        weights = arrs[options.DENSE_INPUT]
        if "FULLY" in name:
            xs = (int(np.prod(xs)) // o["cols"], o["cols"])
            ys = (xs[0], rows)
            kind, geom = "fc", None
        else:
            kind = "depthwise_conv" if "DEPTHWISE" in name else "conv"
            geom = _conv_geometry(o, kind, xs, ys, di.Geometry)
            if kind == "depthwise_conv":
                weights = weights.reshape(weights.shape[1:])  # [kh][kw][rows]
        x = rng.integers(-128, 128, size=xs).astype(np.int8)
        layers.append((L - 1, di.DenseLayer(f"{tag}/{name}#{n}", kind, x, ys, np.ascontiguousarray(weights), q, geom)))
    return layers


@dataclass
class ModelCounts:
    """Instructions of the KS_* operators of one file on one CPU, summed per level."""

    totals: dict[int, int]
    cmsis_nn_dense: int | None  # CMSIS-NN's own kernels on the dense levels' layers (the plain model's cost)
    dense_levels: dict[int, int]  # the part of `totals` spent in ks_dense_*
    operators: int
    peak_scratch: int


def model_counts(tflite: bytes, tag: str, cpu: str, workdir: Path, lib, plugin,
                 nn_root: str | None = "find") -> ModelCounts:
    """Runs every KS_* operator of a converted int8 file at every level on `cpu` (QEMU), each call
    checked against the host build (sparse kernels) or the numpy oracle (ks_dense_*: CMSIS-NN build with
    CMSIS-NN at `nn_root`, by default `find_cmsis_nn_root`, portable when None), and sums the
    instructions per level."""
    workdir = Path(workdir)
    cases = model_cases(tflite, tag)
    totals: dict[int, int] = {}
    scratch = 0
    if cases:
        image = ki.build_image(cases, cpu, workdir / "sparse", lib, name="model")
        result = ki.run(image, plugin, timeout=600)
        if result.exit_code != 0:
            raise RuntimeError(f"{tag} {cpu}: the model image reported failures\n{result.stdout[-2000:]}")
        for call, count in zip(image.calls, result.regions["k"], strict=True):
            if call.status == kb.KS_OK:
                totals[call.level] = totals.get(call.level, 0) + int(count)
        scratch = image.scratch
    dense = model_dense_layers(tflite, tag)
    dense_levels: dict[int, int] = {}
    cmsis_total = None
    if dense:
        root = find_cmsis_nn_root() if nn_root == "find" else nn_root
        kernels = ("ks_dense", "cmsis_nn") if root else ("ks_dense",)
        image = di.build_image([layer for _, layer in dense], kernels, cpu, workdir / "dense", cmsis_nn_root=root,
                               name="model_dense")
        result = ki.rq.run_image(image.elf, cpu=cpu, plugin=plugin, timeout=600)
        if result.exit_code != 0:
            raise RuntimeError(f"{tag} {cpu}: the dense image reported failures\n{result.stdout[-2000:]}")
        levels = {id(layer): level for level, layer in dense}
        cmsis_total = 0 if root else None
        for call, count in zip(image.calls, result.regions["d"], strict=True):
            if call.kernel == "cmsis_nn":
                cmsis_total += int(count)
                continue
            level = levels[id(call.layer)]
            totals[level] = totals.get(level, 0) + int(count)
            dense_levels[level] = dense_levels.get(level, 0) + int(count)
        scratch = max(scratch, di.scratch_bytes([layer for _, layer in dense]))
    from keras_subnets.convert import flatbuffer as fb

    operators = len(fb.custom_ops(fb.load(tflite)))
    return ModelCounts(totals, cmsis_total, dense_levels, operators, scratch)


def model_instructions(tflite: bytes, cpu: str = "m4") -> dict[int, int]:
    """Instructions the KS_* operators of a converted int8 file execute per level on a Cortex-M (QEMU).

    Every level is counted, the densest one on ks_dense_* where the file says so (format v3
    dense_top; CMSIS-NN's kernels when a TFLM tree with CMSIS-NN is found, see `cmsis_nn_root`).
    Builtin operators (pooling, softmax) are not counted.
    """
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = kb.load_library(kb.build_library(tmp / "host"))
        plugin = ki.rq.build_plugin(tmp / "ks_icount.so")
        return dict(sorted(model_counts(tflite, "model", cpu, tmp / cpu, lib, plugin).totals.items()))


# ---------------------------------------------------------------------------


def main(argv):
    del argv
    t0 = time.time()
    cpus = FLAGS.value
    nn_root = cmsis_nn_root()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = kb.load_library(kb.build_library(tmp / "host"))
        plugin = ki.rq.build_plugin(tmp / "ks_icount.so")
        measured = run_layer_images(cpus, nn_root, tmp, lib, plugin)
        models = run_models(cpus, nn_root, tmp, lib, plugin) if MODELS.value else []
        print(file=sys.stderr)

    text = "\n".join(layer_tables(cpus, nn_root, *measured) + model_tables(cpus, models))
    print(text)
    print(f"\n({time.time() - t0:.0f} s)")
    if WRITE.value:
        report.write_section(
            "kernels", "Kernel instruction counts on Cortex-M (QEMU)", report.provenance() + "\n" + text
        )


def run_layer_images(cpus, nn_root: str, tmp: Path, lib, plugin):
    """Builds and runs the layer image (every `layer_cases` case and the dense kernels) on each CPU: the
    calls, the dense calls, and the instructions of each per CPU."""
    cases = layer_cases()
    dlayers = dense_layers()
    counts, dcounts = {}, {}
    for cpu in cpus:
        _progress(f"kernels: building + running layer image for {cpu}")
        img = ki.build_image(cases, cpu, tmp / cpu, lib, name="layers", dense=(dlayers, DENSE_KERNELS, nn_root))
        res = ki.run(img, plugin, timeout=900)
        if res.exit_code != 0:
            raise SystemExit(f"{cpu}: {res.exit_code} failures\n{res.stdout[-3000:]}")
        counts[cpu] = res.regions["k"]
        dcounts[cpu] = res.regions["d"]
    return img.calls, img.dense_calls, counts, dcounts


def run_models(cpus, nn_root: str, tmp: Path, lib, plugin) -> list[tuple[str, str, dict[str, ModelCounts]]]:
    """The quickstart CNN in each mask kind and DS-CNN S (structured), converted and counted on each CPU."""
    models = []
    specs = [("quickstart", k) for k in ("unstructured", "block", "row", "structured")]
    specs.append(("ds_cnn_s", "structured"))
    for which, kind in specs:
        _progress(f"kernels: converting {which} ({kind})")
        blob = _model_tflite(which, kind)
        per = {}
        for cpu in cpus:
            _progress(f"kernels: running {which} ({kind}) on {cpu}")
            per[cpu] = model_counts(blob, f"{which}-{kind}", cpu, tmp / f"{which}-{kind}-{cpu}", lib, plugin,
                                    nn_root)
        models.append((which, kind, per))
    return models


def dense_table(cpus, calls, dcalls, counts, dense, nn) -> tuple[list[str], list[list]]:
    """Header and rows of the dense table: CMSIS-NN, ks_dense (CMSIS-NN build, portable), structured at full
    width, per layer."""
    full = {}
    for i, c in enumerate(calls):
        if c.case.fmt == "structured" and c.level == 3 and c.case.name in LAYERS and c.case.planned:
            full[c.case.name] = {cpu: counts[cpu][i] for cpu in cpus}
    dh = ["layer", "MACs"]
    for cpu in cpus:
        dh += [
            f"{cpu} CMSIS-NN",
            f"{cpu} ks_dense (CMSIS-NN build)",
            f"{cpu} ÷",
            f"{cpu} ks_dense portable",
            f"{cpu} ÷",
            f"{cpu} structured 100 %",
            f"{cpu} ÷",
        ]
    drows = []
    for key in LAYERS:
        macs = next(c.macs for c in dcalls if c.layer.name == key)
        r = [LAYERS[key][0], f"{macs:,}"]
        for cpu in cpus:
            base = nn[key][cpu]
            ks, port = dense[cpu][(key, "ks_dense")], dense[cpu][(key, "ks_dense_portable")]
            r += [f"{base:,}", f"{ks:,}", f"{ks / base:.3f}", f"{port:,}", f"{port / base:.2f}"]
            r += [f"{full[key][cpu]:,}", f"{full[key][cpu] / base:.2f}"]
        drows.append(r)
    return dh, drows


def level_table(cpus, calls, counts, nn) -> tuple[list[str], list[list]]:
    """Header and rows of the per-level table: unplanned and planned runs of the same matrix."""
    header = ["layer", "format", "level", "sparsity", "MACs"]
    for cpu in cpus:
        header += [f"{cpu} instr", f"{cpu} planned", f"{cpu} instr/MAC", f"{cpu} planned ÷ CMSIS-NN dense"]
    planned = {
        (c.case.name, c.case.fmt, c.level): i for i, c in enumerate(calls) if c.case.planned and c.status == kb.KS_OK
    }
    rows = []
    for i, c in enumerate(calls):
        if c.case.name not in LAYERS or c.status != kb.KS_OK or c.case.planned:
            continue
        key = c.case.name
        j = planned[(key, c.case.fmt, c.level)]
        r = [LAYERS[key][0], c.case.fmt, c.level, f"{SPARSITY[c.level]:.0%}", f"{c.macs:,}"]
        for cpu in cpus:
            n, m = counts[cpu][i], counts[cpu][j]
            r += [f"{n:,}", f"{m:,}", f"{m / max(c.macs, 1):.2f}", f"{m / nn[key][cpu]:.2f}"]
        rows.append(r)
    return header, rows


def switch_rows(cpus, calls, counts, dense) -> list[list]:
    """Rows of the per-call cost table: the 1-weight FC at two levels in every format, and the dense kernels."""
    sw_rows = []
    for i, c in enumerate(calls):
        if c.case.name == "switch":
            how = "ks_run_s8 (plan)" if c.case.planned else "unplanned"
            sw_rows.append([c.case.fmt, how, c.level] + [f"{counts[cpu][i]:,}" for cpu in cpus])
    for kernel in DENSE_KERNELS:
        sw_rows.append([f"dense: {kernel}", "–", "–"] + [f"{dense[cpu][('switch', kernel)]:,}" for cpu in cpus])
    return sw_rows


def rejected_rows(cpus, calls, counts) -> list[list]:
    """Rows of the rejected-level table (KS_ERR_LEVEL calls)."""
    bad_rows = []
    for i, c in enumerate(calls):
        if c.status == kb.KS_ERR_LEVEL:
            how = "plan" if c.case.planned else "unplanned"
            bad_rows.append([LAYERS[c.case.name][0], c.case.fmt, how] + [f"{counts[cpu][i]:,}" for cpu in cpus])
    return bad_rows


def layer_tables(cpus, nn_root: str, calls, dcalls, counts, dcounts) -> list[str]:
    """Tables 1-3 and the rejected-level table, with their explanations, as lines of text."""
    dense = {cpu: {(c.layer.name, c.kernel): n for c, n in zip(dcalls, dcounts[cpu], strict=True)} for cpu in cpus}
    nn = {key: {cpu: dense[cpu][(key, "cmsis_nn")] for cpu in cpus} for key in LAYERS}
    cpu_instr = [f"{cpu} instr" for cpu in cpus]
    return [
        "Dense layers, measured in the same image and run: CMSIS-NN's own kernel called as TFLM's cmsis_nn "
        "operators call it (what the plain int8 model costs on stock TFLM + CMSIS-NN), our `ks_dense` kernels "
        "built with `-DKS_CMSIS_NN` (they call the same CMSIS-NN kernels) and portable, and the structured format "
        "at full width; ÷ = ratio to CMSIS-NN. Every output is checked against the numpy oracle of TFLM's "
        f"reference arithmetic. CMSIS-NN: {_nn_version(nn_root)}, compiled `-O2` as TFLM builds it.",
        "",
        report.markdown_table(*dense_table(cpus, calls, dcalls, counts, dense, nn)),
        "",
        "Per level (levels are nested random masks; structured widths give the MAC share 1 − sparsity): the "
        "unplanned kernel and the same matrix through a plan prepared once (`ks_plan.h`, what Eval runs; a "
        "sparse conv with one input channel runs as a depthwise conv there); ÷ CMSIS-NN dense = planned ÷ the "
        "CMSIS-NN column above:",
        "",
        report.markdown_table(*level_table(cpus, calls, counts, nn)),
        "",
        "Per-call cost independent of the layer (switching level = passing another level number): a whole "
        "1×1 FC call (arguments, level check, table selection, one MAC, one requantization) at two levels, "
        "unplanned and through a plan (`ks_run_s8`), and the dense kernels on the same 1-weight layer "
        "(CMSIS-NN's own call, our unplanned and planned calls of the CMSIS-NN build, the portable build):",
        "",
        report.markdown_table(["format", "call", "level"] + cpu_instr, switch_rows(cpus, calls, counts, dense)),
        "",
        "Rejected level (KS_ERR_LEVEL, before any array is read):",
        "",
        report.markdown_table(["layer", "format", "call"] + cpu_instr, rejected_rows(cpus, calls, counts)),
    ]


def model_tables(cpus, models) -> list[str]:
    """Table 4 (whole models) with its explanation as lines of text; none without models."""
    if not models:
        return []
    mh = ["model", "kind", "level"]
    for cpu in cpus:
        mh += [f"{cpu} custom-op instr", f"{cpu} ÷ level 3", f"{cpu} ÷ CMSIS-NN dense"]
    mh += ["custom ops", "peak scratch bytes"]
    mrows = []
    for which, kind, per in models:
        first = per[cpus[0]]
        L = max(first.totals) + 1
        for k in range(L):
            r = [which, kind, k]
            for cpu in cpus:
                c = per[cpu]
                ratio = f"{c.totals[k] / c.cmsis_nn_dense:.2f}" if c.cmsis_nn_dense else "–"
                r += [f"{c.totals[k]:,}", f"{c.totals[k] / c.totals[L - 1]:.2f}", ratio]
            r += [first.operators, f"{first.peak_scratch:,}"]
            mrows.append(r)
    return [
        "",
        "Whole models, int8 (untrained weights: masks follow weight magnitudes at initialisation; counts "
        "depend on the masks' sizes, not on training). Sum over every KS_* operator of the converted file, "
        "each run with its own arrays from the .tflite and a random input; builtin operators (pooling, "
        "softmax, …) are not counted. Levels: quickstart 90/75/50/0 % sparsity, DS-CNN S 75/50/25/0 % "
        "structured. Format v3: the densest level runs ks_dense_* (dense_top; CMSIS-NN build when a TFLM "
        "tree with CMSIS-NN is found); \"÷ CMSIS-NN dense\" divides by CMSIS-NN's own kernels on the same "
        "layers, i.e. the weight layers of the plain int8 model on stock TFLM + CMSIS-NN:",
        "",
        report.markdown_table(mh, mrows),
    ]


if __name__ == "__main__":
    app.run(main)
