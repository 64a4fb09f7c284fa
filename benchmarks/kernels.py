"""Instruction counts of the tflm_ops kernels per level on Cortex-M4 / M7 (QEMU).

Builds bare-metal images with tflm_ops/cortex_m (gcc -O2, DSP loops on), runs
them in qemu-system-arm with the exact instruction-counting plugin, checks
every output against the host build of the same core (int8 bit-exact), and
prints tables:

1. FC 256->256, 1x1 conv 14x14x64->64, depthwise 3x3 14x14x64 at 0/50/75/90 %
   sparsity in every format, next to the dense CMSIS-NN and plain-C figures
   quoted from /work/shared/baselines.md (not re-measured) and our own dense
   kernel (the structured format at full width);
2. the per-call cost that does not depend on the layer size (switching level);
3. whole models: the quickstart CNN nested in each mask kind and REDS DS-CNN S
   (structured), converted to int8 .tflite; every KS_* operator of the file is
   run with its own arrays, the counts summed per level, with peak scratch.

    python benchmarks/kernels.py [--cpus m4,m7] [--nomodels] [--write]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from absl import app, flags

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tflm_ops" / "cortex_m"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import ks_kernel_image as ki  # noqa: E402
import report  # noqa: E402

kb = ki.kb

FLAGS = flags.DEFINE_list("cpus", ["m4", "m7"], "CPUs to measure (m4, m7).")
MODELS = flags.DEFINE_bool("models", True, "Also measure the quickstart CNN and DS-CNN S.")
WRITE = flags.DEFINE_bool("write", False, "Write the tables into docs/benchmarks.md.")

SPARSITY = (0.9, 0.75, 0.5, 0.0)  # levels 0..3
DENSITY = tuple(1.0 - s for s in SPARSITY)

# From /work/shared/baselines.md (CMSIS-NN 99f736a6 and a TFLM-style plain C
# reference, QEMU 10.0.2): M4, M7 instruction counts.  Not re-measured here.
BASELINES = {
    "fc": {"cmsis": (137_763, 137_764), "plain": (474_863, 477_138)},
    "pw": {"cmsis": (1_664_379, 1_636_153), "plain": (6_411_789, 6_522_473)},
    "dw": {"cmsis": (894_832, 894_841), "plain": (3_407_564, 2_968_315)},
}
LAYERS = {
    "fc": ("FC 256→256", "fc", (1, 256), (1, 256), 256, 256, 256, None),
    "pw": ("1×1 conv 14×14×64→64", "conv", (1, 14, 14, 64), (1, 14, 14, 64), 64, 64, 64, (1, 1, 0, 0, 0)),
    "dw": ("DW 3×3 14×14×64", "depthwise_conv", (1, 14, 14, 64), (1, 14, 14, 64), 64, 9, 64, (3, 3, 1, 1, 1)),
}


def _progress(msg):
    print(f"\r{msg:<78}", end="", file=sys.stderr, flush=True)


def layer_cases():
    cases = []
    for key, (_name, op, xs, ys, rows, cols, cin, g) in LAYERS.items():
        geom = None if g is None else kb.ConvGeometry(g[0], g[1], pad_h=g[2], pad_w=g[3], depth_multiplier=g[4])
        for fmt in ki.FORMATS:
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
                    seed=len(cases) + 1,
                )
            )
    # Fixed per-call cost: a 1x1 FC (one MAC, one requantization) at two levels.
    for fmt in ki.FORMATS:
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


def model_cases(tflite: bytes, tag: str):
    from keras_subnets.convert import flatbuffer as fb
    from keras_subnets.convert import options

    model = fb.load(tflite)
    sg = model.subgraphs[0]
    cases = []
    fmt_names = {v: k for k, v in kb.FORMATS.items()}
    for name, op in fb.custom_ops(model):
        o = options.decode(op.customOptions, name)
        t_in, t_out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
        arrs = [None if i < 0 else fb.tensor_data(model, sg.tensors[i]) for i in op.inputs]
        L, rows, cols, fmt = o["levels"], o["rows"], o["cols"], fmt_names[o["format"]]
        table = np.ascontiguousarray(arrs[4].reshape(-1))  # pointers: uint16 or int32 (format v2)
        nested = kb.Nested(
            fmt,
            L,
            rows,
            cols,
            np.ascontiguousarray(arrs[2].reshape(-1)),
            indices=None if arrs[3] is None else np.ascontiguousarray(arrs[3].reshape(-1)),
            in_channels=o["in_channels"],
            depth_multiplier=o["depth_multiplier"],
        )
        if fmt in ("nested_csr", "nested_block"):
            nested.ptr = table
        elif fmt == "row":
            nested.counts = table.astype(np.int32)
        else:
            nested.out_width, nested.in_width = table[:L].astype(np.int32), table[L:].astype(np.int32)
        params = kb.QuantParams(
            o["input_offset"],
            o["output_offset"],
            o["act_min"],
            o["act_max"],
            np.ascontiguousarray(arrs[6]),
            np.ascontiguousarray(arrs[7]),
            np.ascontiguousarray(arrs[5]),
            layout=o["tables"],  # shared, per level or structured prefix, as stored (format v2)
        )
        xs, ys = tuple(int(d) for d in t_in.shape), tuple(int(d) for d in t_out.shape)
        if "FULLY" in name:
            kind, geom = "fc", None
            xs = (int(np.prod(xs)) // cols, cols)
            ys = (xs[0], rows)
        else:
            kind = "conv" if "DEPTHWISE" not in name else "depthwise_conv"
            kh, kw, sh, sw, dh, dw = (
                o[k] for k in ("kernel_h", "kernel_w", "stride_h", "stride_w", "dilation_h", "dilation_w")
            )
            ph = _same_pad(xs[1], kh, sh, dh, ys[1]) if o["padding"] == 0 else 0
            pw = _same_pad(xs[2], kw, sw, dw, ys[2]) if o["padding"] == 0 else 0
            geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw, o["depth_multiplier"] if kind != "conv" else 0)
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
                levels=tuple(range(L)),
            )
        )
    return cases


def model_instructions(tflite: bytes, cpu: str = "m4") -> dict[int, int]:
    """Instructions the KS_* operators of a converted int8 file execute per level on a Cortex-M (QEMU).

    Builtin operators (pooling, softmax) are not counted.
    """
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = kb.load_library(kb.build_library(tmp / "host"))
        plugin = ki.rq.build_plugin(tmp / "ks_icount.so")
        image = ki.build_image(model_cases(tflite, "model"), cpu, tmp / cpu, lib, name="model")
        result = ki.run(image, plugin, timeout=600)
        if result.exit_code != 0:
            raise RuntimeError(f"{cpu}: the model image reported failures\n{result.stdout[-2000:]}")
        totals: dict[int, int] = {}
        for call, count in zip(image.calls, result.regions["k"], strict=True):
            if call.status == kb.KS_OK:
                totals[call.level] = totals.get(call.level, 0) + int(count)
        return totals


# ---------------------------------------------------------------------------


def main(argv):
    del argv
    t0 = time.time()
    cpus = FLAGS.value
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = kb.load_library(kb.build_library(tmp / "host"))
        plugin = ki.rq.build_plugin(tmp / "ks_icount.so")
        cases = layer_cases()
        counts = {}
        for cpu in cpus:
            _progress(f"kernels: building + running layer image for {cpu}")
            img = ki.build_image(cases, cpu, tmp / cpu, lib, name="layers")
            res = ki.run(img, plugin, timeout=600)
            if res.exit_code != 0:
                raise SystemExit(f"{cpu}: {res.exit_code} failures\n{res.stdout[-3000:]}")
            counts[cpu] = res.regions["k"]
        calls = img.calls

        models = []
        if MODELS.value:
            specs = [("quickstart", k) for k in ("unstructured", "block", "row", "structured")]
            specs.append(("ds_cnn_s", "structured"))
            for which, kind in specs:
                _progress(f"kernels: converting {which} ({kind})")
                mc = model_cases(_model_tflite(which, kind), f"{which}-{kind}")
                per = {}
                for cpu in cpus:
                    _progress(f"kernels: running {which} ({kind}) on {cpu}")
                    mimg = ki.build_image(mc, cpu, tmp / f"{which}-{kind}-{cpu}", lib, name="model")
                    res = ki.run(mimg, plugin, timeout=600)
                    if res.exit_code != 0:
                        raise SystemExit(f"{which} {kind} {cpu}: failures\n{res.stdout[-3000:]}")
                    per[cpu] = res.regions["k"]
                models.append((which, kind, mimg, per))
        print(file=sys.stderr)

    # ---- layer table ----
    own_dense = {}
    for i, c in enumerate(calls):
        if c.case.fmt == "structured" and c.level == 3 and c.case.name in LAYERS:
            own_dense[c.case.name] = {cpu: counts[cpu][i] for cpu in cpus}
    header = ["layer", "format", "level", "sparsity", "MACs"]
    for cpu in cpus:
        header += [f"{cpu} instr", f"{cpu} instr/MAC", f"{cpu} ÷ CMSIS-NN dense", f"{cpu} ÷ own dense"]
    rows = []
    for i, c in enumerate(calls):
        if c.case.name not in LAYERS or c.status != kb.KS_OK:
            continue
        key = c.case.name
        r = [LAYERS[key][0], c.case.fmt, c.level, f"{SPARSITY[c.level]:.0%}", f"{c.macs:,}"]
        for j, cpu in enumerate(cpus):
            n = counts[cpu][i]
            r += [
                f"{n:,}",
                f"{n / max(c.macs, 1):.2f}",
                f"{n / BASELINES[key]['cmsis'][j]:.2f}",
                f"{n / own_dense[key][cpu]:.2f}",
            ]
        rows.append(r)
    base_rows = []
    for key, b in BASELINES.items():
        r = [LAYERS[key][0]]
        for cpu in cpus:
            jj = 0 if cpu == "m4" else 1
            r += [f"{b['cmsis'][jj]:,}", f"{b['plain'][jj]:,}", f"{own_dense[key][cpu]:,}"]
        base_rows.append(r)
    base_header = ["layer"]
    for cpu in cpus:
        base_header += [
            f"{cpu} CMSIS-NN dense (baselines.md)",
            f"{cpu} plain C (baselines.md)",
            f"{cpu} own dense (structured, 100 %)",
        ]
    sw_rows = []
    for i, c in enumerate(calls):
        if c.case.name == "switch":
            sw_rows.append([c.case.fmt, c.level] + [f"{counts[cpu][i]:,}" for cpu in cpus])
    bad_rows = []
    for i, c in enumerate(calls):
        if c.status == kb.KS_ERR_LEVEL:
            bad_rows.append([LAYERS[c.case.name][0], c.case.fmt] + [f"{counts[cpu][i]:,}" for cpu in cpus])
    out = [
        "Dense references (CMSIS-NN and plain C quoted from /work/shared/baselines.md, not re-measured; "
        "own dense = our structured format at full width, measured here):",
        "",
        report.markdown_table(base_header, base_rows),
        "",
        "Per level (levels are nested random masks; structured widths give the MAC share 1 − sparsity):",
        "",
        report.markdown_table(header, rows),
        "",
        "Per-call cost independent of the layer (switching level = passing another level number): a whole "
        "1×1 FC call (arguments, level check, table selection, one MAC, one requantization) at two levels:",
        "",
        report.markdown_table(["format", "level"] + [f"{cpu} instr" for cpu in cpus], sw_rows),
        "",
        "Rejected level (KS_ERR_LEVEL, before any array is read):",
        "",
        report.markdown_table(["layer", "format"] + [f"{cpu} instr" for cpu in cpus], bad_rows),
    ]
    if models:
        mh = ["model", "kind", "level"]
        for cpu in cpus:
            mh += [f"{cpu} custom-op instr", f"{cpu} ÷ level 3"]
        mh += ["custom ops", "peak scratch bytes"]
        mrows = []
        for which, kind, mimg, per in models:
            L = max(c.level for c in mimg.calls) + 1
            totals = {cpu: [0] * L for cpu in cpus}
            for i, c in enumerate(mimg.calls):
                for cpu in cpus:
                    totals[cpu][c.level] += per[cpu][i]
            nops = len({id(c.case) for c in mimg.calls})
            for k in range(L):
                r = [which, kind, k]
                for cpu in cpus:
                    r += [f"{totals[cpu][k]:,}", f"{totals[cpu][k] / totals[cpu][L - 1]:.2f}"]
                r += [nops, f"{mimg.scratch:,}"]
                mrows.append(r)
        out += [
            "",
            "Whole models, int8 (untrained weights: masks follow weight magnitudes at initialisation; counts "
            "depend on the masks' sizes, not on training). Sum over every KS_* operator of the converted file, "
            "each run with its own arrays from the .tflite and a random input; builtin operators (pooling, "
            "softmax, …) are not counted. Levels: quickstart 90/75/50/0 % sparsity, DS-CNN S 75/50/25/0 % "
            "structured:",
            "",
            report.markdown_table(mh, mrows),
        ]
    text = "\n".join(out)
    print(text)
    print(f"\n({time.time() - t0:.0f} s)")
    if WRITE.value:
        report.write_section(
            "kernels", "Kernel instruction counts on Cortex-M (QEMU)", report.provenance() + "\n" + text
        )


if __name__ == "__main__":
    app.run(main)
