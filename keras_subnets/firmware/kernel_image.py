# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Generate, build and run Cortex-M test images that call the tflm_ops core.

Used by tests/cortex_m/core_kernels_qemu_test.py (correctness of every
kernel, format, dtype and level on M4 / M7) and benchmarks/kernels.py
(instruction counts).  Expected outputs come from the same core built for the
host with gcc (keras_subnets/firmware/core_binding.py); int8 must match bit for
bit, float32 within a relative 1e-5.

A `Case` is one layer in one format; the image calls it at each of its
levels (plus levels expected to fail with KS_ERR_LEVEL), each call bracketed
by KS_BENCH markers of one region "k", so `regions["k"][i]` is the count of
the i-th call (in `Image.calls` order).

    cases = [Case(...), ...]
    img = build_image(cases, "m4", workdir, lib)
    res = run(img, plugin)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from keras_subnets.firmware import core_binding as kb
from keras_subnets.firmware import qemu as rq
from keras_subnets.firmware.arm_gcc import link_image_command

ROOT = Path(__file__).resolve().parents[2]
CM = ROOT / "tflm_ops" / "cortex_m"

FORMATS = ("nested_csr", "nested_block", "row", "structured")
CTYPES = {np.int8: "int8_t", np.uint8: "uint8_t", np.uint16: "uint16_t", np.int32: "int32_t", np.float32: "float"}


def _levels_for(density, rng, shape):
    """first_level for nested random masks with cumulative `density`."""
    L = len(density)
    u = rng.random(shape)
    fl = np.full(shape, L, np.int32)
    for k in reversed(range(L)):
        fl[u < density[k]] = k
    return fl


def encode(fmt, W, density, rng, in_ch, dm):
    """Encode W with nested levels of the given weight densities (structured:
    widths chosen so that the MAC share is about the density).  Returns
    (Nested, first_level)."""
    rows, cols = W.shape
    L = len(density)
    if fmt == "nested_csr":
        fl = _levels_for(density, rng, W.shape)
        return kb.encode_nested_csr(W, fl, L), fl
    if fmt == "nested_block":
        nb = (cols + 1) // 2
        bfl = _levels_for(density, rng, (rows, nb))
        fl = np.repeat(bfl, 2, axis=1)[:, :cols]
        if cols % 2 and W.dtype == np.int8:
            # Format v4 refuses odd-width int8 blocks (their values are pairs of D's row): the converter
            # writes such a layer as nested_csr with the same non-zeros, and so does this image.
            return kb.encode_nested_csr(W, fl, L), fl
        return kb.encode_nested_block(W, bfl, L), fl
    if fmt == "row":
        counts = [min(cols, max(1, round(d * cols))) for d in density]
        fl = np.full(W.shape, L, np.int32)
        for r in range(rows):
            order = rng.permutation(cols)
            for j, c in enumerate(order):
                fl[r, c] = int(np.searchsorted(counts, j, side="right"))
        return kb.encode_row(W, fl, L), fl
    if dm:
        in_w = [min(in_ch, max(1, round(d * in_ch))) for d in density]
        out_w = [w * dm for w in in_w]
    else:
        in_w = [min(in_ch, max(1, round(np.sqrt(d) * in_ch))) for d in density]
        out_w = [min(rows, max(1, round(np.sqrt(d) * rows))) for d in density]
    fl = kb.structured_first_level(rows, cols, out_w, in_w, in_ch, dm)
    return kb.encode_structured(W, out_w, in_w, in_ch, dm), fl


@dataclass
class Case:
    """One layer in one format.  op: 'fc', 'conv', 'depthwise_conv'."""

    name: str
    op: str
    dtype: str  # 'int8' | 'float32'
    fmt: str
    x_shape: tuple
    y_shape: tuple
    rows: int
    cols: int
    in_channels: int
    geometry: kb.ConvGeometry | None = None
    density: tuple = (0.1, 0.3, 0.6)
    bad_levels: tuple = ()  # levels expected to return KS_ERR_LEVEL
    per_level: bool = True
    seed: int = 0
    negative_multipliers: bool = False
    act: tuple = (-128, 127)
    levels: tuple | None = None  # default: every level
    # Prebuilt layer (e.g. read from a converted .tflite): used as given.
    nested: kb.Nested | None = None
    params: object | None = None  # kb.QuantParams (int8 only)
    first_level: np.ndarray | None = None
    # int8 only: prepare a ks_plan once (outside the counted region) and
    # count ks_run_s8 calls instead of the unplanned kernel (ks_plan.h).
    planned: bool = False


@dataclass
class Call:
    case: Case
    level: int
    status: int
    macs: int  # MACs of the level (entries x output pixels)
    dense_macs: int


@dataclass
class Image:
    elf: Path
    cpu: str
    calls: list = field(default_factory=list)
    scratch: int = 0
    dense_calls: list = field(default_factory=list)  # dense_image.Call, region "d"


def _c_arr(name, a, ctype):
    a = np.asarray(a).reshape(-1)
    if ctype == "float":
        body = ",".join(repr(float(v)) + "f" for v in a) if a.size else "0"
    else:
        body = ",".join(str(int(v)) for v in a) if a.size else "0"
    return f"static const {ctype} {name}[] __attribute__((aligned(4))) = {{{body}}};\n"


def _case_arrays(case: Case, lib, tag: str, hdr: list, body: list, calls: list, img: Image):
    """Appends one case's arrays to ``hdr`` and its block of calls to ``body``; one `Call` per level to ``calls``."""
    _CaseWriter(case, tag, hdr, body).write(lib, calls, img)


class _CaseWriter:
    """The C of one case: inputs and quantization arrays, the matrix, geometry, plan, and a checked call per level.

    Expected outputs come from the host build of the core (``lib``); int8
    ones are first checked against the numpy oracle.
    """

    def __init__(self, case: Case, tag: str, hdr: list, body: list):
        self.case, self.tag, self.hdr, self.body = case, tag, hdr, body
        self.is_int8 = case.dtype == "int8"
        self.T = np.int8 if self.is_int8 else np.float32
        self.L = len(case.density) if case.nested is None else case.nested.num_levels

    def write(self, lib, calls: list, img: Image):
        case = self.case
        rng = np.random.default_rng(case.seed)
        if case.nested is not None:
            x, W, params, pdecl = self._nested_inputs(rng)
            nested, fl = case.nested, case.first_level
        else:
            x, W, params, pdecl = self._int8_inputs(rng) if self.is_int8 else self._float_inputs(rng)
            dm = case.geometry.depth_multiplier if case.op == "depthwise_conv" else 0
            nested, fl = encode(case.fmt, W, case.density, rng, case.in_channels, dm)
        assert kb.validate(lib, nested) == kb.KS_OK, case
        self._matrix_arrays(nested, x)
        self.body.append(self._matrix_decl(nested, pdecl))
        if case.op != "fc":
            self.body.append(self._geometry_decl())
        if case.planned:
            self.body.append(self._plan_decl())
        levels = list(case.levels if case.levels is not None else range(self.L)) + list(case.bad_levels)
        for k in levels:
            self._level_call(lib, nested, fl, W, params, x, k, calls, img)
        self.body.append("  }\n")

    def _quant_arrays(self, params, layout: int) -> str:
        """The int8 tables' arrays; returns the declaration of ``q`` over them."""
        tag = self.tag
        self.hdr += [_c_arr(f"mult{tag}", params.multiplier, "int32_t"), _c_arr(f"shift{tag}", params.shift, "int8_t")]
        self.hdr.append(_c_arr(f"bias{tag}", params.bias, "int32_t"))
        return (
            f"const ks_quant_params q = {{{params.input_offset}, {params.output_offset}, {params.act_min},"
            f" {params.act_max}, {layout}, bias{tag}, mult{tag}, shift{tag}}};"
        )

    def _nested_inputs(self, rng):
        """A converted layer's matrix and int8 parameters (benchmarks' model cases)."""
        case = self.case
        x = rng.integers(-128, 128, size=case.x_shape).astype(np.int8)
        params = case.params
        layout = int(np.asarray(params.multiplier).ndim == 2) if params.layout is None else params.layout
        return x, None, params, self._quant_arrays(params, layout)

    def _int8_inputs(self, rng):
        """Random int8 input, weights and requantization (per level or shared, optionally negative)."""
        case = self.case
        x = rng.integers(-128, 128, size=case.x_shape).astype(np.int8)
        W = rng.integers(-127, 128, size=(case.rows, case.cols)).astype(np.int8)
        qshape = (self.L, case.rows) if case.per_level else (case.rows,)
        mult = rng.integers(2**30, 2**31, size=qshape).astype(np.int64)
        if case.negative_multipliers:
            mult = np.where(rng.random(qshape) < 0.3, -mult, mult)
        mult = mult.astype(np.int32)
        shift = rng.integers(-13, -8, size=qshape).astype(np.int32)
        bias = rng.integers(-4000, 4000, size=qshape).astype(np.int32)
        params = kb.QuantParams(128, 3, case.act[0], case.act[1], mult, shift, bias)
        return x, W, params, self._quant_arrays(params, int(case.per_level))

    def _float_inputs(self, rng):
        """Random float32 input, weights, scales and biases."""
        case, tag = self.case, self.tag
        x = rng.standard_normal(case.x_shape).astype(np.float32)
        W = rng.standard_normal((case.rows, case.cols)).astype(np.float32)
        qshape = (self.L, case.rows) if case.per_level else (case.rows,)
        scale = rng.uniform(0.5, 1.5, qshape).astype(np.float32)
        bias = rng.standard_normal(qshape).astype(np.float32)
        params = kb.FloatParams(-6.0, 6.0, scale, bias)
        self.hdr += [_c_arr(f"scale{tag}", scale, "float"), _c_arr(f"fbias{tag}", bias, "float")]
        pdecl = f"const ks_float_params q = {{-6.0f, 6.0f, {int(case.per_level)}, scale{tag}, fbias{tag}}};"
        return x, W, params, pdecl

    def _matrix_arrays(self, nested, x):
        """The input, the output buffer and the nested matrix's arrays."""
        tag, hdr = self.tag, self.hdr
        ctype = CTYPES[self.T]
        hdr.append(_c_arr(f"x{tag}", x, ctype))
        hdr.append(f"static {ctype} y{tag}[{int(np.prod(self.case.y_shape))}] __attribute__((aligned(4)));\n")
        hdr.append(_c_arr(f"v{tag}", nested.values, ctype))
        if nested.indices is not None:
            hdr.append(_c_arr(f"i{tag}", nested.indices, CTYPES[nested.indices.dtype.type]))
        for nm in ("ptr", "counts", "out_width", "in_width"):
            a = getattr(nested, nm)
            if a is not None:
                # Format v2: level pointers are uint16 up to 65535 entries (kb.pointer_dtype).
                hdr.append(_c_arr(f"{nm}{tag}", a, "uint16_t" if a.dtype == np.uint16 else "int32_t"))

    def _matrix_decl(self, nested, pdecl: str) -> str:
        """Opens the case's block: the ``ks_matrix w`` over those arrays and the parameters ``q``."""
        tag, case = self.tag, self.case

        def opt(nm):
            return f"{nm}{tag}" if getattr(nested, nm) is not None else "0"

        table = nested.counts if nested.counts is not None else nested.out_width
        return (
            f"  {{ const ks_matrix w = {{ {kb.FORMATS[nested.fmt]}, {kb.DTYPES[np.dtype(self.T)]}, {self.L},"
            f" {case.rows}, {case.cols},"
            f" v{tag}, {nested.values.size}, {opt('indices').replace('indices', 'i')},"
            f" {0 if nested.indices is None else nested.indices.size}, {opt('ptr')},"
            f" {0 if nested.ptr is None else nested.ptr.size}, {opt('counts')}, {opt('out_width')},"
            f" {opt('in_width')}, {0 if table is None else table.size}, {nested.in_channels},"
            f" {nested.depth_multiplier}, {getattr(nested, 'tap_major', 0)} }};\n    {pdecl}\n"
        )

    def _geometry_decl(self) -> str:
        g, xs, ys = self.case.geometry, self.case.x_shape, self.case.y_shape
        return (
            f"    const ks_conv_params cp = {{{g.kernel_h},{g.kernel_w},{g.stride_h},{g.stride_w},"
            f"{g.dilation_h},{g.dilation_w},{g.pad_h},{g.pad_w},{g.depth_multiplier}}};\n"
            f"    const ks_dims din = {{{xs[0]},{xs[1]},{xs[2]},{xs[3]}}};\n"
            f"    const ks_dims dout = {{{ys[0]},{ys[1]},{ys[2]},{ys[3]}}};\n"
        )

    def _plan_decl(self) -> str:
        """Builds the case's ``ks_plan`` in the image and checks its scratch fits."""
        case = self.case
        if not self.is_int8:
            raise ValueError("plans are int8 only")
        plan_call = (
            f"ks_plan_fully_connected_s8(&plan, &w, &q, {case.x_shape[0]})"
            if case.op == "fc"
            else f"ks_plan_{case.op}_s8(&plan, &cp, &w, &q, &din, &dout)"
        )
        return (
            f"    static ks_plan plan;\n"
            f'    if ({plan_call} != KS_OK) {{ printf("FAIL plan {case.name}\\n"); g_fail++; }}\n'
            f"    if (ks_plan_scratch_size(&plan) > (int32_t)sizeof g_scratch) {{\n"
            f'      printf("FAIL plan scratch\\n"); g_fail++; }}\n'
        )

    def _level_call(self, lib, nested, fl, W, params, x, k: int, calls: list, img: Image):
        """Level ``k`` run on the host (the expected output or status), and its timed, checked call in the image."""
        case, tag, is_int8 = self.case, self.tag, self.is_int8
        sfx = "s8" if is_int8 else "f32"
        if case.op == "fc":
            st, y = kb.fully_connected(lib, nested, k, params, x)
            call = f"ks_fully_connected_{sfx}(&w, {k}, &q, {case.x_shape[0]}, x{tag}, y{tag})"
        else:
            st, y, sz = kb.conv(lib, case.op, case.geometry, nested, k, params, x, case.y_shape)
            img.scratch = max(img.scratch, sz)
            call = f"ks_{case.op}_{sfx}(&cp, &w, {k}, &q, &din, x{tag}, &dout, y{tag}, g_scratch)"
        if case.planned:
            call = f"ks_run_s8(&plan, {k}, x{tag}, y{tag}, g_scratch)"
        want = kb.KS_ERR_LEVEL if k in case.bad_levels else kb.KS_OK
        assert st == want, (case, k, st)
        if st == kb.KS_OK and is_int8 and case.nested is None:
            # The host build the image is checked against must itself agree with the numpy
            # transcription of TFLM's reference kernels on the level's masked weights, so a
            # bug shared by both builds of the core cannot pass.
            oracle = _numpy_oracle(case, np.where(fl <= k, W, 0), params, k, x)
            if case.fmt == "structured":  # channels past the level's width hold the zero point (format §3.4)
                oracle[..., np.asarray(nested.out_width)[k]:] = params.output_offset
            assert np.array_equal(y, oracle), f"host core disagrees with the numpy oracle: {case.name} {case.fmt} L{k}"
        label = f"{case.name} {case.dtype} {case.fmt}{' plan' if case.planned else ''} L{k}"
        if st == kb.KS_OK:
            exp = f"e{tag}_{len(calls)}"
            self.hdr.append(_c_arr(exp, y, CTYPES[self.T]))
            chk = "check_s8" if is_int8 else "check_f32"
            check = f'    {chk}("{label}", st, {KS_OK_NAME}, y{tag}, {exp}, {y.size});\n'
        else:
            check = f'    check_status("{label}", st, {st});\n'
        self.body.append(f"    KS_BENCH_BEGIN(k);\n    st = {call};\n    KS_BENCH_END(k);\n{check}")
        pix = 1 if case.op == "fc" else int(np.prod(case.y_shape[1:3]))
        batches = case.x_shape[0]
        macs = int(np.count_nonzero(fl <= k)) * pix * batches if (0 <= k < self.L and fl is not None) else 0
        calls.append(Call(case, k, st, macs, case.rows * case.cols * pix * batches))


def _numpy_oracle(case: Case, Wk: np.ndarray, params, level: int, x: np.ndarray) -> np.ndarray:
    """Level ``level`` of an int8 case by dense_image's numpy oracle (TFLM reference_integer_ops)."""
    from keras_subnets.firmware import dense_image as di  # noqa: PLC0415

    def row(a):
        a = np.asarray(a)
        return a[level] if a.ndim == 2 else a

    q = di.DenseQuant(params.input_offset, params.output_offset, params.act_min, params.act_max,
                      row(params.multiplier), row(params.shift), row(params.bias))  # fmt: skip
    if case.op == "fc":
        return di.ref_fully_connected(Wk, q, x)
    g = case.geometry
    geom = di.Geometry(g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_h, g.pad_w,
                       g.depth_multiplier)  # fmt: skip
    if case.op == "conv":  # canonical rows are the OHWI filter flattened (docs/format.md §2)
        return di.ref_conv(geom, Wk.reshape(case.rows, g.kernel_h, g.kernel_w, case.in_channels), q, x, case.y_shape)
    # depthwise: canonical W[o][tap] is the [kh][kw][C*mult] filter transposed
    return di.ref_depthwise_conv(geom, Wk.T.reshape(g.kernel_h, g.kernel_w, case.rows), q, x, case.y_shape)


KS_OK_NAME = "KS_OK"

_PRELUDE = r"""#include <math.h>
#include <stdio.h>
#include <string.h>
#include "ks_bench.h"
#include "ks_ops.h"
#include "ks_plan.h"
static int g_fail;
static void check_s8(const char *n, ks_status st, ks_status want, const int8_t *y, const int8_t *e, int len) {
  int i, bad = 0, first = -1;
  for (i = 0; i < len; ++i) { if (y[i] != e[i]) { if (first < 0) first = i; ++bad; } }
  if (st != want || bad) {
    printf("FAIL %s: status %d, %d/%d wrong, first at %d\n", n, (int)st, bad, len, first); g_fail++;
  } else { printf("PASS %s\n", n); }
}
static void check_f32(const char *n, ks_status st, ks_status want, const float *y, const float *e, int len) {
  int i, bad = 0, first = -1;
  for (i = 0; i < len; ++i) {
    if (!(fabsf(y[i] - e[i]) <= 1e-5f * (1.0f + fabsf(e[i])))) { if (first < 0) first = i; ++bad; }
  }
  if (st != want || bad) {
    printf("FAIL %s: status %d, %d/%d wrong, first at %d\n", n, (int)st, bad, len, first); g_fail++;
  } else { printf("PASS %s\n", n); }
}
static void check_status(const char *n, ks_status st, int want) {
  if ((int)st != want) { printf("FAIL %s: status %d, want %d\n", n, (int)st, want); g_fail++; }
  else { printf("PASS %s\n", n); }
}
"""


def build_image(
    cases, cpu: str, workdir: Path, lib, name: str = "kernels", extra_c: str = "", dense=None, root: Path | None = None
) -> Image:
    """Write <workdir>/<name>.c for `cases`, compile it with the core for `cpu`.
    `extra_c` is appended to main() before the checks' summary (free-form
    regions, e.g. switch-level measurements).  `dense` = (layers, kernels,
    cmsis_nn_root or None) adds dense_image's dense calls (region "d",
    `Image.dense_calls`) to the same image, linked with the core built by
    tflm_ops/cortex_m/Makefile (-DKS_CMSIS_NN and CMSIS-NN with a root).
    `root` compiles the core, runtime and linker script of another checkout
    of this repository instead of this one (same test arrays, e.g. to count
    two versions of a kernel; not with `dense`)."""
    if root is not None and dense is not None:
        raise ValueError("root is not supported with dense")
    root = ROOT if root is None else Path(root)
    cm = root / "tflm_ops" / "cortex_m"
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    img = Image(workdir / f"{name}_{cpu}.elf", cpu)
    hdr, body = [], []
    for i, case in enumerate(cases):
        _case_arrays(case, lib, f"c{i}", hdr, body, img.calls, img)
    # Plans may pick another kernel (conv with one input channel runs as
    # depthwise) with its own scratch: room for it, checked in the image.
    scratch = max(img.scratch, 4096 if any(c.planned for c in cases) else 4)
    src = [
        _PRELUDE,
        f"static uint8_t g_scratch[{(scratch + 3) // 4 * 4}] __attribute__((aligned(4)));\n",
        *hdr,
        "int main(void) {\n  ks_status st;\n  (void)st;\n",
        *body,
        extra_c,
        '  printf("failures %d\\n", g_fail);\n  return g_fail;\n}\n',
    ]
    if dense is not None:
        from keras_subnets.firmware import dense_image as di  # noqa: PLC0415

        layers, kernels, nn_root = dense
        dimg = di.Image(img.elf, cpu)
        head, dbody = di.dense_source(layers, kernels, dimg, nn_root)
        img.dense_calls = dimg.calls
        src[0] = _PRELUDE + head
        src[-1] = (
            src[-1]
            .replace("return g_fail;", "return g_fail + g_dfail;")
            .replace('"failures %d\\n", g_fail', '"failures %d\\n", g_fail + g_dfail')
        )
        src.insert(-1, dbody)
        di.link_image(cpu, img.elf, "".join(src), workdir, nn_root, "ks_dense_portable" in kernels)
        return img
    app = workdir / f"{name}.c"
    app.write_text("".join(src))
    core = sorted((root / "tflm_ops" / "core").glob("*.c"))
    inc = [f"-I{cm / 'include'}", f"-I{root / 'tflm_ops' / 'include'}"]
    cmd = link_image_command(cpu, img.elf, app, cm, inc, core, std="c99")
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return img


def run(img: Image, plugin, timeout: float = 300):
    """Run in QEMU; returns run_qemu's result (exit_code = failures)."""
    return rq.run_image(img.elf, cpu=img.cpu, plugin=plugin, timeout=timeout)
