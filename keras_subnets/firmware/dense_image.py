# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Dense int8 layers (tflm_ops/include/ks_dense.h) on Cortex-M (QEMU): the
numpy oracle, random layers, and images that call, per layer,

- ``ks_dense``: ks_dense_* as linked (portable, or CMSIS-NN when the core is
  built with ``CMSIS_NN_ROOT``, i.e. -DKS_CMSIS_NN);
- ``ks_dense_portable``: the portable ks_dense_* compiled a second time under
  ``*_portable`` names, so one image holds both builds;
- ``ks_dense_plan``: the same through a prepared ks_plan (ks_run_s8);
- ``cmsis_nn``: CMSIS-NN's own kernel called as TFLM's
  kernels/cmsis_nn/{fully_connected,conv,depthwise_conv}.cc call it for a
  plain int8 model (the baseline a user ships).

Every call is bracketed by the KS_BENCH region ``d`` (``regions["d"][i]`` is
the i-th entry of ``Image.calls``) and its output is checked in the image
against the numpy oracle, a transcription of TFLM's reference_integer_ops
(int32 sums that wrap; MultiplyByQuantizedMultiplier with double rounding, or
single rounding as TFLITE_SINGLE_ROUNDING; a negative multiplier negates the
accumulator, docs/format.md §5.2).  Scratch sizes are asked outside the
region, as a TFLM Prepare would.

    layers = [random_layer("fc", "fc", (1, 256), (1, 256), None, rng), ...]
    img = build_image(layers, ("ks_dense", "cmsis_nn"), "m4", workdir, cmsis_nn_root=...)
    res = qemu.run_image(img.elf, cpu="m4", plugin=plugin)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from keras_subnets.firmware.arm_gcc import ARCH, link_image_command
from keras_subnets.firmware.core_binding import ConvGeometry

CM = Path(__file__).resolve().parents[2] / "tflm_ops" / "cortex_m"
CORE = CM.parent / "core"
INCLUDE = CM.parent / "include"
KERNELS = ("ks_dense", "ks_dense_portable", "cmsis_nn")
# Also: "ks_dense_plan", ks_dense as linked through a ks_plan (ks_plan.h)
# prepared outside the counted region.
# The portable ks_dense sources and the names they get in an image that also
# links the CMSIS-NN build.
PORTABLE_SOURCES = (
    "ks_dense_fully_connected_s8.c",
    "ks_dense_conv_s8.c",
    "ks_dense_depthwise_conv_s8.c",
    "ks_dense_rows_s8.c",
    "ks_dense_fully_connected_s8_get_buffer_size.c",
    "ks_dense_conv_s8_get_buffer_size.c",
    "ks_dense_depthwise_conv_s8_get_buffer_size.c",
)
PORTABLE_RENAMES = (
    "ks_dense_fully_connected_s8",
    "ks_dense_conv_s8",
    "ks_dense_depthwise_conv_s8",
    "ks__dense_rows_s8",
    "ks_dense_fully_connected_s8_get_buffer_size",
    "ks_dense_conv_s8_get_buffer_size",
    "ks_dense_depthwise_conv_s8_get_buffer_size",
)


# A dense layer's geometry is the core's (ks_conv_params).
Geometry = ConvGeometry


@dataclass
class DenseQuant:
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: np.ndarray
    shift: np.ndarray
    bias: np.ndarray | None = None

    def __post_init__(self):
        self.multiplier = np.ascontiguousarray(self.multiplier, np.int32)
        self.shift = np.ascontiguousarray(self.shift, np.int32)
        if self.bias is not None:
            self.bias = np.ascontiguousarray(self.bias, np.int32)


# ---------------------------------------------------------------------------
# numpy oracle
# ---------------------------------------------------------------------------


def _wrap32(v) -> np.ndarray:
    return ((np.asarray(v, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def requantize(acc: np.ndarray, q: DenseQuant, single_rounding: bool = False) -> np.ndarray:
    """acc [..., rows] (int32 values, any integer dtype) -> int8 outputs."""
    acc = _wrap32(acc)
    if q.bias is not None:
        acc = _wrap32(acc + q.bias.astype(np.int64))
    m = q.multiplier.astype(np.int64)
    s = q.shift.astype(np.int64)
    x = np.where(m < 0, _wrap32(-acc), acc)
    m = np.abs(m)
    if single_rounding:
        total = 31 - s
        y = (x * m + (np.int64(1) << (total - 1))) >> total
    else:
        a = _wrap32(x << np.maximum(s, 0))
        hi = (a * m + (1 << 30)) >> 31  # gemmlowp's SRDHM, exact as a floor for m != INT32_MIN
        right = np.maximum(-s, 0)
        mask = (np.int64(1) << right) - 1
        y = (hi >> right) + ((hi & mask) > (mask >> 1) + (hi < 0))
    y = _wrap32(y + q.output_offset)
    return np.clip(y, q.act_min, q.act_max).astype(np.int8)


def ref_fully_connected(W, q: DenseQuant, x, single_rounding: bool = False) -> np.ndarray:
    """W [rows][cols], x [batches][cols]."""
    acc = (np.asarray(x, np.int64) + q.input_offset) @ np.asarray(W, np.int64).T
    return requantize(acc, q, single_rounding)


def _windows(g: Geometry, x: np.ndarray, out_shape, pad_value: int) -> np.ndarray:
    """[n, oh, ow, kh, kw, c] input windows; positions outside the image hold pad_value."""
    _, H, Wd, _ = x.shape
    _, oh, ow, _ = out_shape
    iy = (np.arange(oh) * g.stride_h - g.pad_h)[:, None] + np.arange(g.kernel_h)[None, :] * g.dilation_h
    ix = (np.arange(ow) * g.stride_w - g.pad_w)[:, None] + np.arange(g.kernel_w)[None, :] * g.dilation_w
    vy = (iy >= 0) & (iy < H)
    vx = (ix >= 0) & (ix < Wd)
    win = x[:, np.clip(iy, 0, H - 1)[:, None, :, None], np.clip(ix, 0, Wd - 1)[None, :, None, :], :]
    valid = vy[:, None, :, None] & vx[None, :, None, :]
    return np.where(valid[None, ..., None], win.astype(np.int64), pad_value)


def ref_conv(g: Geometry, W, q: DenseQuant, x, out_shape, single_rounding: bool = False) -> np.ndarray:
    """W OHWI; padding is the input value -input_offset, so it contributes 0."""
    win = _windows(g, np.asarray(x), out_shape, -q.input_offset) + q.input_offset
    acc = np.einsum("nyxhwc,ohwc->nyxo", win, np.asarray(W, np.int64))
    return requantize(acc, q, single_rounding)


def ref_depthwise_conv(g: Geometry, W, q: DenseQuant, x, out_shape, single_rounding: bool = False) -> np.ndarray:
    """W [kh][kw][C*mult]; output channel c*mult + m reads input channel c."""
    win = _windows(g, np.asarray(x), out_shape, -q.input_offset) + q.input_offset
    win = np.repeat(win, g.depth_multiplier, axis=-1)
    acc = np.einsum("nyxhwc,hwc->nyxc", win, np.asarray(W, np.int64))
    return requantize(acc, q, single_rounding)


def reference(layer: DenseLayer, single_rounding: bool = False) -> np.ndarray:
    if layer.op == "fc":
        return ref_fully_connected(layer.weights, layer.q, layer.x, single_rounding)
    fn = ref_conv if layer.op == "conv" else ref_depthwise_conv
    return fn(layer.geometry, layer.weights, layer.q, layer.x, layer.y_shape, single_rounding)


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------


@dataclass
class DenseLayer:
    """op 'fc' (weights [rows][cols], x [batches][cols]), 'conv' (OHWI, NHWC)
    or 'depthwise_conv' ([kh][kw][out.c], NHWC)."""

    name: str
    op: str
    x: np.ndarray
    y_shape: tuple
    weights: np.ndarray
    q: DenseQuant
    geometry: Geometry | None = None


def same_geometry(in_hw, kernel, stride=(1, 1), dilation=(1, 1), padding="same", depth_multiplier=0):
    """(Geometry, (out_h, out_w)) as TFLite computes them for SAME / VALID."""
    pads, outs = [], []
    for n, k, s, d in zip(in_hw, kernel, stride, dilation, strict=True):
        eff = (k - 1) * d + 1
        out = (n + s - 1) // s if padding == "same" else (n - eff) // s + 1
        pads.append(max((out - 1) * s + eff - n, 0) // 2 if padding == "same" else 0)
        outs.append(out)
    g = Geometry(
        kernel[0], kernel[1], stride[0], stride[1], dilation[0], dilation[1], pads[0], pads[1], depth_multiplier
    )
    return g, tuple(outs)


def random_quant(
    rng: np.random.Generator,
    rows: int,
    accum: int,
    negative_multipliers: bool = True,
    bias: bool = True,
    input_offset: int | None = None,
) -> DenseQuant:
    """Per-channel tables that scale a typical accumulator into int8 (outputs
    not all clamped), and keep CMSIS-NN's requantization equal to TFLite's
    (|bias| + 255·Σ|w| < 2^31, ks_dense.h)."""
    mult = rng.integers(1 << 30, (1 << 31) - 1, rows, dtype=np.int64)
    if negative_multipliers:
        mult = np.where(rng.random(rows) < 0.3, -mult, mult)
    typical = max(np.sqrt(accum) * 128 * 64, 64.0)
    shift = -int(np.ceil(np.log2(typical / 64))) + rng.integers(-1, 2, rows)
    in_off = int(rng.integers(-127, 129)) if input_offset is None else input_offset
    out_off = int(rng.integers(-128, 128))
    return DenseQuant(
        in_off,
        out_off,
        -128,
        127,
        mult,
        np.clip(shift, -31, 0),
        rng.integers(-(1 << 14), 1 << 14, rows) if bias else None,
    )


def random_layer(
    name: str, op: str, x_shape, y_shape, geometry: Geometry | None, rng: np.random.Generator, **quant_kwargs
) -> DenseLayer:
    x = rng.integers(-128, 128, size=x_shape).astype(np.int8)
    if op == "fc":
        shape, rows = (y_shape[-1], x_shape[-1]), y_shape[-1]
    elif op == "conv":
        shape, rows = (y_shape[-1], geometry.kernel_h, geometry.kernel_w, x_shape[-1]), y_shape[-1]
    else:
        shape, rows = (geometry.kernel_h, geometry.kernel_w, y_shape[-1]), y_shape[-1]
    W = rng.integers(-128, 128, size=shape).astype(np.int8)
    accum = int(np.prod(shape)) // rows
    return DenseLayer(name, op, x, tuple(y_shape), W, random_quant(rng, rows, accum, **quant_kwargs), geometry)


# ---------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------


@dataclass
class Call:
    layer: DenseLayer
    kernel: str  # one of KERNELS

    @property
    def macs(self) -> int:
        L = self.layer
        if L.op == "fc":
            return int(L.weights.size) * L.x.shape[0]
        per_out = int(L.weights.size) // L.y_shape[-1]
        return per_out * int(np.prod(L.y_shape))


@dataclass
class Image:
    elf: Path
    cpu: str
    calls: list = field(default_factory=list)


def _c_arr(name: str, a, ctype: str) -> str:
    a = np.asarray(a).reshape(-1)
    body = ",".join(str(int(v)) for v in a) if a.size else "0"
    return f"static const {ctype} {name}[] __attribute__((aligned(4))) = {{{body}}};\n"


PRELUDE = r"""#include <stdio.h>
#include <string.h>
#include "ks_bench.h"
#include "ks_dense.h"
#include "ks_plan.h"
static int g_dfail;
static void dense_check(const char *n, int st, const int8_t *y, const int8_t *e, int len) {
  int i, bad = 0, first = -1;
  for (i = 0; i < len; ++i) { if (y[i] != e[i]) { if (first < 0) first = i; ++bad; } }
  if (st != 0 || bad) {
    printf("FAIL %s: status %d, %d/%d wrong, first at %d\n", n, st, bad, len, first); g_dfail++;
  } else { printf("PASS %s\n", n); }
}
"""

PORTABLE_DECLS = """ks_status ks_dense_fully_connected_s8_portable(const int8_t *, int32_t, int32_t,
    const ks_dense_quant *, int32_t, const int8_t *, int8_t *, void *);
int32_t ks_dense_fully_connected_s8_get_buffer_size_portable(int32_t, int32_t);
ks_status ks_dense_conv_s8_portable(const ks_conv_params *, const int8_t *, const ks_dense_quant *,
    const ks_dims *, const int8_t *, const ks_dims *, int8_t *, void *);
int32_t ks_dense_conv_s8_get_buffer_size_portable(const ks_conv_params *, const ks_dims *, const ks_dims *);
ks_status ks_dense_depthwise_conv_s8_portable(const ks_conv_params *, const int8_t *, const ks_dense_quant *,
    const ks_dims *, const int8_t *, const ks_dims *, int8_t *, void *);
int32_t ks_dense_depthwise_conv_s8_get_buffer_size_portable(const ks_conv_params *, const ks_dims *,
    const ks_dims *);
"""


def _call_code(layer: DenseLayer, kernel: str, tag: str) -> tuple[str, str]:
    """(scratch size expression, call statement) of one layer with one kernel."""
    q = layer.q
    sfx = "_portable" if kernel == "ks_dense_portable" else ""
    if kernel == "ks_dense_plan":
        if layer.op == "fc":
            rows, cols = layer.weights.shape
            prep = f"ks_plan_dense_fully_connected_s8(&plan, w{tag}, {rows}, {cols}, &q{tag}, {layer.x.shape[0]})"
        else:
            prep = f"ks_plan_dense_{layer.op}_s8(&plan, &cp{tag}, w{tag}, &q{tag}, &din{tag}, &dout{tag})"
        return f"({prep} == KS_OK ? ks_plan_scratch_size(&plan) : (int32_t)0x7fffffff)", (
            f"ks_run_s8(&plan, 0, x{tag}, y{tag}, scratch)"
        )
    if layer.op == "fc":
        rows, cols = layer.weights.shape
        batches = layer.x.shape[0]
        if kernel == "cmsis_nn":
            size = f"arm_fully_connected_s8_get_buffer_size(&fdims{tag})"
            # Kernel sums (MVE only; 0 bytes on M4/M7) belong to Prepare, as in TFLM.
            return size, (
                f"arm_fully_connected_per_channel_s8(&ctx, &fcp{tag}, &pq{tag}, &idims{tag}, x{tag}, &fdims{tag},"
                f" w{tag}, &bdims{tag}, {'bias' + tag if q.bias is not None else 'NULL'}, &odims{tag}, y{tag})"
            )
        size = f"ks_dense_fully_connected_s8_get_buffer_size{sfx}({rows}, {cols})"
        return (
            size,
            f"ks_dense_fully_connected_s8{sfx}(w{tag}, {rows}, {cols}, &q{tag}, {batches}, x{tag}, y{tag}, scratch)",
        )
    op = layer.op
    if kernel == "cmsis_nn":
        if op == "conv":
            return (
                f"arm_convolve_wrapper_s8_get_buffer_size(&ncp{tag}, &idims{tag}, &fdims{tag}, &odims{tag})",
                f"arm_convolve_wrapper_s8(&ctx, &ncp{tag}, &pq{tag}, &idims{tag}, x{tag}, &fdims{tag}, w{tag},"
                f" &bdims{tag}, {'bias' + tag if q.bias is not None else 'NULL'}, &odims{tag}, y{tag})",
            )
        return (
            f"arm_depthwise_conv_wrapper_s8_get_buffer_size(&ndw{tag}, &idims{tag}, &fdims{tag}, &odims{tag})",
            f"arm_depthwise_conv_wrapper_s8(&ctx, &ndw{tag}, &pq{tag}, &idims{tag}, x{tag}, &fdims{tag}, w{tag},"
            f" &bdims{tag}, {'bias' + tag if q.bias is not None else 'NULL'}, &odims{tag}, y{tag})",
        )
    return (
        f"ks_dense_{op}_s8_get_buffer_size{sfx}(&cp{tag}, &din{tag}, &dout{tag})",
        f"ks_dense_{op}_s8{sfx}(&cp{tag}, w{tag}, &q{tag}, &din{tag}, x{tag}, &dout{tag}, y{tag}, scratch)",
    )


def image_source(layers, kernels, img: Image, region: str = "d", single_rounding: bool = False) -> tuple[str, str]:
    """(file-scope C, main()-body C) calling every layer with every kernel.
    Appends to img.calls.  The main body declares its own block scope."""
    hdr, body = [], []
    for i, layer in enumerate(layers):
        tag = f"d{i}"
        expected = reference(layer, single_rounding)
        hdr += _layer_arrays(layer, tag, expected)
        if "cmsis_nn" in kernels:
            hdr += _cmsis_nn_params(layer, tag)
        for kernel in kernels:
            body.append(_kernel_block(layer, kernel, tag, region, expected.size))
            img.calls.append(Call(layer, kernel))
    return "".join(hdr), "".join(body)


def _layer_arrays(layer, tag: str, expected: np.ndarray) -> list[str]:
    """The layer's weights, input, expected output, output buffer, ks_dense_quant and (conv) geometry."""
    q, g = layer.q, layer.geometry
    hdr = [
        _c_arr(f"w{tag}", layer.weights, "int8_t"),
        _c_arr(f"x{tag}", layer.x, "int8_t"),
        _c_arr(f"e{tag}", expected, "int8_t"),
        _c_arr(f"mult{tag}", q.multiplier, "int32_t"),
        _c_arr(f"shift{tag}", q.shift, "int32_t"),
        f"static int8_t y{tag}[{expected.size}] __attribute__((aligned(4)));\n",
    ]
    if q.bias is not None:
        hdr.append(_c_arr(f"bias{tag}", q.bias, "int32_t"))
    bias = f"bias{tag}" if q.bias is not None else "NULL"
    hdr.append(
        f"static const ks_dense_quant q{tag} = {{{q.input_offset}, {q.output_offset}, {q.act_min},"
        f" {q.act_max}, {bias}, mult{tag}, shift{tag}}};\n"
    )
    xs, ys = layer.x.shape, layer.y_shape
    if layer.op != "fc":
        hdr.append(
            f"static const ks_conv_params cp{tag} = {{{g.kernel_h}, {g.kernel_w}, {g.stride_h}, {g.stride_w},"
            f" {g.dilation_h}, {g.dilation_w}, {g.pad_h}, {g.pad_w}, {g.depth_multiplier}}};\n"
            f"static const ks_dims din{tag} = {{{xs[0]}, {xs[1]}, {xs[2]}, {xs[3]}}};\n"
            f"static const ks_dims dout{tag} = {{{ys[0]}, {ys[1]}, {ys[2]}, {ys[3]}}};\n"
        )
    return hdr


def _cmsis_nn_params(layer, tag: str) -> list[str]:
    """CMSIS-NN's parameter structs for the layer, as TFLM's kernels/cmsis_nn/*.cc fill them."""
    q, g = layer.q, layer.geometry
    xs, ys = layer.x.shape, layer.y_shape
    act = f"{{{q.act_min}, {q.act_max}}}"
    hdr = [
        f"static cmsis_nn_per_channel_quant_params pq{tag} = {{(int32_t *)mult{tag}, (int32_t *)shift{tag}}};\n"
        f"static const cmsis_nn_dims bdims{tag} = {{1, 1, 1, {ys[-1]}}};\n"
    ]
    if layer.op == "fc":
        rows, cols = layer.weights.shape
        hdr.append(
            f"static const cmsis_nn_fc_params fcp{tag} = {{{q.input_offset}, 0, {q.output_offset}, {act}}};\n"
            f"static const cmsis_nn_dims idims{tag} = {{{xs[0]}, 1, 1, {cols}}};\n"
            f"static const cmsis_nn_dims fdims{tag} = {{{cols}, 1, 1, {rows}}};\n"
            f"static const cmsis_nn_dims odims{tag} = {{{xs[0]}, 1, 1, {rows}}};\n"
        )
        return hdr
    fdims_c = xs[3] if layer.op == "conv" else ys[3]
    hdr.append(
        f"static const cmsis_nn_dims idims{tag} = {{{xs[0]}, {xs[1]}, {xs[2]}, {xs[3]}}};\n"
        f"static const cmsis_nn_dims fdims{tag} = {{1, {g.kernel_h}, {g.kernel_w}, {fdims_c}}};\n"
        f"static const cmsis_nn_dims odims{tag} = {{{ys[0]}, {ys[1]}, {ys[2]}, {ys[3]}}};\n"
    )
    tiles = (
        f"{{{g.stride_w}, {g.stride_h}}}, {{{g.pad_w}, {g.pad_h}}},"
        f" {{{g.dilation_w}, {g.dilation_h}}}, {act}"
    )
    if layer.op == "conv":
        hdr.append(
            f"static const cmsis_nn_conv_params ncp{tag} ="
            f" {{{q.input_offset}, {q.output_offset}, {tiles}}};\n"
        )
    else:
        hdr.append(
            f"static const cmsis_nn_dw_conv_params ndw{tag} = {{{q.input_offset}, {q.output_offset},"
            f" {g.depth_multiplier}, {tiles}}};\n"
        )
    return hdr


def _kernel_block(layer, kernel: str, tag: str, region: str, expected_size: int) -> str:
    """One timed call of ``kernel`` on the layer, its scratch checked and its output compared."""
    size, call = _call_code(layer, kernel, tag)
    label = f"{layer.name} {kernel}"
    ctx = ""
    if kernel == "cmsis_nn":
        ctx = "    cmsis_nn_context ctx; ctx.buf = scratch; ctx.size = size;\n"
    return (
        "  {\n"
        + ("    static ks_plan plan;\n" if kernel == "ks_dense_plan" else "")
        + f"    const int32_t size = {size};\n"
        f"    void *scratch = size > 0 ? (void *)g_dscratch : NULL;\n{ctx}"
        f"    int st;\n"
        f'    if (size > (int32_t)sizeof g_dscratch) {{ printf("FAIL {label}: scratch %ld\\n", (long)size);'
        f" g_dfail++; }}\n"
        f"    memset(y{tag}, 0x55, sizeof y{tag});\n"
        f"    KS_BENCH_BEGIN({region});\n"
        f"    st = (int){call};\n"
        f"    KS_BENCH_END({region});\n"
        f'    dense_check("{label}", st, y{tag}, e{tag}, {expected_size});\n'
        "  }\n"
    )


def scratch_bytes(layers) -> int:
    """A bound on every kernel's scratch for these layers (checked in the image)."""
    n = 1024
    for L in layers:
        if L.op != "fc":
            n = max(
                n,
                4 * int(np.prod(L.weights.shape[1:])) + 64,
                2 * L.x.shape[-1] * 9 * 2 + 64,
                2 * L.x.shape[-1] * L.geometry.kernel_h * L.geometry.kernel_w * 2 + 64,
            )
        else:
            n = max(n, 4 * L.weights.shape[0] + 64)
    return (n + 3) // 4 * 4


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"$ {' '.join(cmd)}\n{r.stdout[-2000:]}{r.stderr[-4000:]}")


def _make_libs(cpu: str, build: Path, cmsis_nn_root: str | None) -> list[Path]:
    args = ["make", "-s", "-j2", "-C", str(CM), f"CPU={cpu}", f"BUILD={build}", "lib"]
    if cmsis_nn_root:
        args.append(f"CMSIS_NN_ROOT={cmsis_nn_root}")
    _run(args)
    libs = [build / "libks_core.a"]
    if cmsis_nn_root:
        libs.append(build / "libcmsis_nn.a")
    return libs


def compile_portable_alias(cpu: str, workdir: Path) -> list[Path]:
    """The portable ks_dense sources as ks_dense_*_portable objects."""
    out = []
    renames = [f"-D{n}={n}_portable" for n in PORTABLE_RENAMES]
    for src in PORTABLE_SOURCES:
        obj = workdir / f"portable_{Path(src).stem}.o"
        _run(
            [
                "arm-none-eabi-gcc",
                *ARCH[cpu],
                "-O2",
                "-std=c99",
                "-ffunction-sections",
                "-fdata-sections",
                f"-I{INCLUDE}",
                f"-I{CORE}",
                *renames,
                "-c",
                str(CORE / src),
                "-o",
                str(obj),
            ]
        )
        out.append(obj)
    return out


def link_image(cpu: str, elf: Path, app_c: str, workdir: Path, cmsis_nn_root: str | None, portable_alias: bool) -> None:
    """Compile `app_c` and link it with the core (CMSIS-NN build when
    cmsis_nn_root is given), CMSIS-NN, and the portable alias objects."""
    workdir.mkdir(parents=True, exist_ok=True)
    libs = _make_libs(cpu, workdir / "lib", cmsis_nn_root)
    objs = compile_portable_alias(cpu, workdir) if portable_alias else []
    app = workdir / f"{elf.stem}.c"
    app.write_text(app_c)
    inc = [f"-I{CM / 'include'}", f"-I{INCLUDE}", f"-I{CORE}"]
    if cmsis_nn_root:
        inc += [f"-I{cmsis_nn_root}", f"-I{Path(cmsis_nn_root) / 'Include'}", "-DKS_CMSIS_NN"]
    _run(link_image_command(cpu, elf, app, CM, inc, [*objs, *libs]))


def dense_source(
    layers, kernels, img: Image, cmsis_nn_root: str | None = None, single_rounding: bool = False
) -> tuple[str, str]:
    """(file-scope C, main()-body C) of the dense calls, for an image that may
    hold other code too; the body's failures are counted in g_dfail."""
    if "cmsis_nn" in kernels and not cmsis_nn_root:
        raise ValueError("the 'cmsis_nn' kernel needs cmsis_nn_root")
    hdr, body = image_source(layers, kernels, img, single_rounding=single_rounding)
    parts = [PRELUDE]
    if cmsis_nn_root:
        parts.append('#include "arm_nnfunctions.h"\n')
    if "ks_dense_portable" in kernels:
        parts.append(PORTABLE_DECLS)
    parts += [f"static uint8_t g_dscratch[{scratch_bytes(layers)}] __attribute__((aligned(4)));\n", hdr]
    return "".join(parts), body


def build_image(
    layers,
    kernels,
    cpu: str,
    workdir,
    cmsis_nn_root: str | None = None,
    name: str = "dense",
    single_rounding: bool = False,
) -> Image:
    """An image calling every layer with every kernel in `kernels` (see
    KERNELS); 'cmsis_nn' and a CMSIS-NN 'ks_dense' need cmsis_nn_root."""
    workdir = Path(workdir)
    img = Image(workdir / f"{name}_{cpu}.elf", cpu)
    head, body = dense_source(layers, kernels, img, cmsis_nn_root, single_rounding)
    src = head + "int main(void) {\n" + body + '  printf("failures %d\\n", g_dfail);\n  return g_dfail;\n}\n'
    link_image(cpu, img.elf, src, workdir, cmsis_nn_root, "ks_dense_portable" in kernels)
    return img
