"""Instruction counts of the tflm_ops int8 kernels on Cortex-M4/M7 (QEMU).

Not a test (pytest does not collect it).  Builds one bare-metal image with the
harness of tflm_ops/cortex_m (startup, semihosting, KS_BENCH markers, counting
plugin), runs every (layer, format, level) once, checks the outputs against
the host build of the same kernels, and prints a markdown table.

    .venv/bin/python tests/tflm_ops/bench_cortex_m.py --cpu m4 [--cpu m7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
ROOT = HERE.parents[1]
CM = ROOT / "tflm_ops" / "cortex_m"
sys.path.insert(0, str(CM))

import ks_ops_binding as kb  # noqa: E402

ARCH = {
    "m4": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "m7": ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"],
}
DENSITIES = (0.1, 0.3, 0.5)  # per level, densest last (nested)


def _levels_for(density, rng, shape):
    """first_level with cumulative densities `density` (nested)."""
    L = len(density)
    u = rng.random(shape)
    fl = np.full(shape, L, np.int32)
    for k in reversed(range(L)):
        fl[u < density[k]] = k
    return fl


def make_cases(rng):
    """(name, op, geometry, x shape, out shape, rows, cols, in_channels, dm)."""
    cases = [
        ("fc_256x256", "fc", None, (1, 256), (1, 256), 256, 256, 256, 0),
        ("fc_1024x128", "fc", None, (1, 1024), (1, 128), 128, 1024, 1024, 0),
        ("pw_14x14x64_64", "conv", kb.ConvGeometry(1, 1), (1, 14, 14, 64), (1, 14, 14, 64), 64, 64, 64, 0),
        (
            "dw_3x3_14x14x64",
            "depthwise_conv",
            kb.ConvGeometry(3, 3, pad_h=1, pad_w=1, depth_multiplier=1),
            (1, 14, 14, 64),
            (1, 14, 14, 64),
            64,
            9,
            64,
            1,
        ),
        (
            "conv_3x3_14x14x16_32",
            "conv",
            kb.ConvGeometry(3, 3, pad_h=1, pad_w=1),
            (1, 14, 14, 16),
            (1, 14, 14, 32),
            32,
            144,
            16,
            0,
        ),
    ]
    return cases


def encode(fmt, W, rng, in_ch, dm):
    rows, cols = W.shape
    L = len(DENSITIES)
    if fmt == "nested_csr":
        fl = _levels_for(DENSITIES, rng, W.shape)
        return kb.encode_nested_csr(W, fl, L), fl
    if fmt == "nested_block":
        nb = (cols + 1) // 2
        bfl = _levels_for(DENSITIES, rng, (rows, nb))
        return kb.encode_nested_block(W, bfl, L), np.repeat(bfl, 2, axis=1)[:, :cols]
    if fmt == "row":
        counts = [max(1, round(d * cols)) for d in DENSITIES]
        fl = np.full(W.shape, L, np.int32)
        for r in range(rows):
            order = rng.permutation(cols)
            for j, c in enumerate(order):
                fl[r, c] = int(np.searchsorted(counts, j, side="right"))
        return kb.encode_row(W, fl, L), fl
    # structured: widths so that the MAC share is about the density
    fr = [np.sqrt(d) for d in DENSITIES]
    if dm:
        in_w = [max(1, round(d * in_ch)) for d in DENSITIES]
        out_w = [w * dm for w in in_w]
    else:
        in_w = [max(1, round(f * in_ch)) for f in fr]
        out_w = [max(1, round(f * rows)) for f in fr]
    fl = kb.structured_first_level(rows, cols, out_w, in_w, in_ch, dm)
    return kb.encode_structured(W, out_w, in_w, in_ch, dm), fl


def c_arr(name, a, ctype):
    a = np.asarray(a).reshape(-1)
    body = ",".join(str(int(v)) for v in a) if a.size else "0"
    return f"static const {ctype} {name}[] __attribute__((aligned(4))) = {{{body}}};\n"


CTYPES = {np.int8: "int8_t", np.uint8: "uint8_t", np.uint16: "uint16_t", np.int32: "int32_t"}


def build(cpu, workdir, lib):
    rng = np.random.default_rng(0)
    hdr, calls, meta = [], [], []
    fmts = ["nested_csr", "nested_block", "row", "structured"]
    for ci, (name, op, geom, xs, ys, rows, cols, in_ch, dm) in enumerate(make_cases(rng)):
        x = rng.integers(-128, 128, size=xs).astype(np.int8)
        W = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
        L = len(DENSITIES)
        mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int32)
        shift = rng.integers(-13, -9, size=(L, rows)).astype(np.int32)
        bias = rng.integers(-4000, 4000, size=(L, rows)).astype(np.int32)
        q = kb.QuantParams(128, 3, -128, 127, mult, shift, bias)
        hdr.append(c_arr(f"x{ci}", x, "int8_t"))
        for nm, a, ctype in (("mult", mult, "int32_t"), ("shift", shift, "int8_t"), ("bias", bias, "int32_t")):
            hdr.append(c_arr(f"{nm}{ci}", a, ctype))  # format v2: int8 shifts
        hdr.append(f"static int8_t y{ci}[{int(np.prod(ys))}];\n")
        scratch = 0
        for fi, fmt in enumerate(fmts):
            nested, fl = encode(fmt, W, rng, in_ch, dm)
            assert kb.validate(lib, nested) == kb.KS_OK
            tag = f"{ci}_{fi}"
            hdr.append(c_arr(f"v{tag}", nested.values, "int8_t"))
            if nested.indices is not None:
                hdr.append(c_arr(f"i{tag}", nested.indices, CTYPES[nested.indices.dtype.type]))
            for nm in ("ptr", "counts", "out_width", "in_width"):
                a = getattr(nested, nm)
                if a is not None:  # format v2: uint16 level pointers up to 65535 entries
                    hdr.append(c_arr(f"{nm}{tag}", a, "uint16_t" if a.dtype == np.uint16 else "int32_t"))
            opt = lambda nm, t=tag, n=nested: f"{nm}{t}" if getattr(n, nm) is not None else "0"  # noqa: E731
            calls.append(
                f"  {{ const ks_matrix w = {{ {kb.FORMATS[fmt]}, KS_DTYPE_INT8, {L}, {rows}, {cols}, v{tag},"
                f" {nested.values.size}, {('i' + tag) if nested.indices is not None else '0'},"
                f" {0 if nested.indices is None else nested.indices.size}, {opt('ptr')},"
                f" {0 if nested.ptr is None else nested.ptr.size}, {opt('counts')},"
                f" {opt('out_width')}, {opt('in_width')}, {L if nested.ptr is None else 0},"
                f" {nested.in_channels}, {nested.depth_multiplier} }};\n"
            )
            calls.append(f"    const ks_quant_params q = {{128, 3, -128, 127, 1, bias{ci}, mult{ci}, shift{ci}}};\n")
            for k in range(L):
                if op == "fc":
                    st, y = kb.fully_connected(lib, nested, k, q, x)
                    call = f"ks_fully_connected_s8(&w, {k}, &q, 1, x{ci}, y{ci})"
                else:
                    st, y, sz = kb.conv(lib, op, geom, nested, k, q, x, ys)
                    scratch = max(scratch, sz)
                    g = geom
                    calls.append(
                        f"    {{ const ks_conv_params cp = {{{g.kernel_h},{g.kernel_w},{g.stride_h},{g.stride_w},"
                        f"{g.dilation_h},{g.dilation_w},{g.pad_h},{g.pad_w},{g.depth_multiplier}}};\n"
                        f"      const ks_dims din = {{{xs[0]},{xs[1]},{xs[2]},{xs[3]}}};\n"
                        f"      const ks_dims dout = {{{ys[0]},{ys[1]},{ys[2]},{ys[3]}}};\n"
                    )
                    fn = "ks_conv_s8" if op == "conv" else "ks_depthwise_conv_s8"
                    call = f"{fn}(&cp, &w, {k}, &q, &din, x{ci}, &dout, y{ci}, g_scratch)"
                assert st == kb.KS_OK
                exp = f"e{tag}_{k}"
                hdr.append(c_arr(exp, y, "int8_t"))
                calls.append(
                    f"    KS_BENCH_BEGIN(k);\n    st = {call};\n    KS_BENCH_END(k);\n"
                    f'    check("{name} {fmt} L{k}", st, y{ci}, {exp}, {y.size});\n'
                )
                if op != "fc":
                    calls.append("    }\n")
                work = int(np.count_nonzero(fl <= k)) * (int(np.prod(ys[:3])) if op != "fc" else 1)
                if op == "conv" and geom.kernel_h > 1:
                    # padding taps are skipped: count MACs at interior pixels only approx. via dense
                    pass
                dense = rows * cols * (int(np.prod(ys[:3])) if op != "fc" else 1)
                meta.append((name, fmt, k, work, dense, nested.nbytes()))
            calls.append("  }\n")
    src = [
        '#include <stdio.h>\n#include <string.h>\n#include "ks_bench.h"\n#include "ks_ops.h"\n',
        "static uint8_t g_scratch[8192] __attribute__((aligned(4)));\nstatic int g_fail;\n",
        "static void check(const char *n, ks_status st, const int8_t *y, const int8_t *e, int len) {\n"
        '  if (st != KS_OK || memcmp(y, e, (size_t)len) != 0) { printf("FAIL %s status %d\\n", n, (int)st);'
        " g_fail++; }\n}\n",
        *hdr,
        "int main(void) {\n  ks_status st;\n",
        *calls,
        '  printf("failures %d\\n", g_fail);\n  return g_fail;\n}\n',
    ]
    app = workdir / "bench.c"
    app.write_text("".join(src))
    elf = workdir / f"bench_{cpu}.elf"
    core = sorted((ROOT / "tflm_ops" / "core").glob("*.c"))
    rt = [CM / "src" / "startup.c", CM / "src" / "semihost.c", CM / "src" / "ks_bench.S"]
    cmd = [
        "arm-none-eabi-gcc",
        *ARCH[cpu],
        "-O2",
        "-std=c99",
        "-ffunction-sections",
        "-fdata-sections",
        f"-I{CM / 'include'}",
        f"-I{ROOT / 'tflm_ops' / 'include'}",
        "-nostartfiles",
        "--specs=nano.specs",
        f"-T{CM / 'ld' / 'mps2.ld'}",
        "-Wl,--gc-sections",
        "-o",
        str(elf),
        str(app),
        *map(str, rt),
        *map(str, core),
        "-lm",
    ]
    subprocess.run(cmd, check=True)
    return elf, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", action="append", choices=["m4", "m7"])
    args = ap.parse_args()
    import run_qemu as rq

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = kb.load_library(kb.build_library(tmp / "host"))
        plugin = rq.build_plugin(tmp / "ks_icount.so")
        results = {}
        for cpu in args.cpu or ["m4"]:
            elf, meta = build(cpu, tmp, lib)
            res = rq.run_image(elf, cpu=cpu, plugin=plugin, timeout=600)
            if res.exit_code != 0:
                print(res.stdout)
                raise SystemExit(f"{cpu}: {res.exit_code} failures")
            results[cpu] = res.regions["k"]
        cpus = list(results)
        print(
            "| layer | format | level | MACs (level) | bytes | "
            + " | ".join(f"{c} instr | {c} instr/MAC | {c} instr/dense MAC" for c in cpus)
            + " |"
        )
        print("|" + "---|" * (5 + 3 * len(cpus)))
        for i, (name, fmt, k, work, dense, nbytes) in enumerate(meta):
            cols = []
            for c in cpus:
                n = results[c][i]
                cols += [f"{n:,}", f"{n / max(work, 1):.2f}", f"{n / dense:.2f}"]
            print(f"| {name} | {fmt} | {k} | {work:,} | {nbytes:,} | " + " | ".join(cols) + " |")


if __name__ == "__main__":
    main()
