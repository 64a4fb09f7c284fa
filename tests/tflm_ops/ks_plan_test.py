# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Prepared calls (ks_plan.h): a plan's run gives bit for bit what the
unplanned kernel gives, at every level, in every format; levels outside
[0, L) are refused; a plan validates what the unplanned kernels trust."""

from __future__ import annotations

import ctypes

import ks_dense_binding as kd
import nested_masks
import numpy as np
import pytest

from keras_subnets.firmware import core_binding as kb

FORMATS = ["nested_csr", "nested_block", "row", "structured"]
PLAN_BYTES = 8192  # > sizeof(ks_plan) on any host; the plan writes only its own size


@pytest.fixture(scope="module")
def plib(lib):
    return setup_plans(lib)


def setup_plans(lib):
    """``lib`` with the ctypes signatures of the plan and dense-kernel API."""
    kd.setup(lib)
    i32, vp, P = ctypes.c_int32, ctypes.c_void_p, ctypes.POINTER
    lib.ks_plan_fully_connected_s8.argtypes = [vp, P(kb.KsMatrix), P(kb.KsQuantParams), i32]
    for op in ("conv", "depthwise_conv"):
        getattr(lib, f"ks_plan_{op}_s8").argtypes = [
            vp,
            P(kb.KsConvParams),
            P(kb.KsMatrix),
            P(kb.KsQuantParams),
            P(kb.KsDims),
            P(kb.KsDims),
        ]
        getattr(lib, f"ks_plan_dense_{op}_s8").argtypes = [
            vp,
            P(kb.KsConvParams),
            vp,
            P(kd.KsDenseQuant),
            P(kb.KsDims),
            P(kb.KsDims),
        ]
    lib.ks_plan_dense_fully_connected_s8.argtypes = [vp, vp, i32, i32, P(kd.KsDenseQuant), i32]
    lib.ks_plan_scratch_size.argtypes = [vp]
    lib.ks_plan_scratch_size.restype = i32
    lib.ks_run_s8.argtypes = [vp, i32, vp, vp, vp]
    lib.ks_run_s8.restype = i32
    for name in (
        "ks_plan_fully_connected_s8",
        "ks_plan_conv_s8",
        "ks_plan_depthwise_conv_s8",
        "ks_plan_dense_fully_connected_s8",
        "ks_plan_dense_conv_s8",
        "ks_plan_dense_depthwise_conv_s8",
    ):
        getattr(lib, name).restype = i32
    return lib


class Plan:
    """A plan in a numpy buffer, and the arrays it points to (kept alive)."""

    def __init__(self, lib, keep):
        self.lib = lib
        self.buf = np.zeros(PLAN_BYTES, np.uint8)
        self.keep = keep

    @property
    def ptr(self):
        return self.buf.ctypes.data

    def run(self, level: int, x: np.ndarray, y_shape, with_scratch: bool = True) -> tuple[int, np.ndarray]:
        size = self.lib.ks_plan_scratch_size(self.ptr)
        scratch = np.full(size + 64, 0xA5, np.uint8)
        out = np.full(int(np.prod(y_shape)) + 64, 0x5A, np.uint8)
        x = np.ascontiguousarray(x, np.int8)
        status = self.lib.ks_run_s8(
            self.ptr, level, x.ctypes.data, out.ctypes.data, scratch.ctypes.data if size and with_scratch else None
        )
        assert np.all(scratch[size:] == 0xA5), "scratch written past ks_plan_scratch_size"
        n = int(np.prod(y_shape))
        assert np.all(out[n:] == 0x5A), "output written past its end"
        return status, out[:n].view(np.int8).reshape(y_shape)


def _quant(rng, L, rows):
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int64)
    mult = np.where(rng.random((L, rows)) < 0.3, -mult, mult).astype(np.int32)
    shift = rng.integers(-12, -6, size=(L, rows)).astype(np.int32)
    bias = rng.integers(-3000, 3000, size=(L, rows)).astype(np.int32)
    return kb.QuantParams(int(rng.integers(-127, 129)), int(rng.integers(-128, 128)), -128, 127, mult, shift, bias)


def _sparse_plan(plib, op, fmt, rng, x_shape, y_shape, rows, cin, geom=None):
    if op == "fc":
        cols, dm = x_shape[-1], 0
    elif op == "conv":
        cols, dm = geom.kernel_h * geom.kernel_w * cin, 0
    else:
        cols, dm = geom.kernel_h * geom.kernel_w, geom.depth_multiplier
    W = rng.integers(-128, 128, size=(rows, cols)).astype(np.int8)
    L = int(rng.integers(2, 5))
    nested, _ = nested_masks.make_nested(fmt, W, L, rng, in_channels=cin, depth_multiplier=dm)
    q = _quant(rng, L, rows)
    m, qs = nested.struct(), q.struct()
    plan = Plan(plib, (nested, q, m, qs, q._keep))  # struct() replaces q._keep on the next call
    if op == "fc":
        st = plib.ks_plan_fully_connected_s8(plan.ptr, ctypes.byref(m), ctypes.byref(qs), x_shape[0])
    else:
        cp = geom.struct()
        st = getattr(plib, f"ks_plan_{op}_s8")(
            plan.ptr, ctypes.byref(cp), ctypes.byref(m), ctypes.byref(qs), kb._dims(x_shape), kb._dims(y_shape)
        )
    if fmt == "nested_block" and cols % 2:
        # Format v4: an int8 block reads its two values from D's row as a pair; odd widths are refused
        # (the converter writes such a layer as nested_csr).
        assert st == kb.KS_ERR_FORMAT
        return None
    assert st == kb.KS_OK
    return plan, nested, q, L


def _unplanned(plib, op, geom, nested, level, q, x, y_shape):
    if op == "fc":
        return kb.fully_connected(plib, nested, level, q, x)
    st, y, _ = kb.conv(plib, op, geom, nested, level, q, x, y_shape)
    return st, y


G = kb.ConvGeometry
SPARSE_CASES = {
    "fc_odd": ("fc", (3, 37), (3, 9), 9, 37, None),
    "fc_u16": ("fc", (1, 300), (1, 5), 5, 300, None),
    "fc_u16_blocks_odd": ("fc", (2, 601), (2, 4), 4, 601, None),
    "fc_p32": ("fc", (1, 300), (1, 300), 300, 300, None),  # > 65535 entries: int32 level pointers
    "pw": ("conv", (2, 5, 4, 16), (2, 5, 4, 8), 8, 16, G(1, 1)),
    "pw_s2_pad": ("conv", (1, 7, 7, 6), (1, 5, 5, 5), 5, 6, G(1, 1, 2, 2, pad_h=1, pad_w=1)),
    "c3_same": ("conv", (1, 7, 6, 3), (1, 7, 6, 5), 5, 3, G(3, 3, pad_h=1, pad_w=1)),
    "c3_dil_s2": ("conv", (1, 11, 10, 4), (1, 4, 3, 3), 3, 4, G(3, 3, 2, 2, 2, 2, 1, 1)),
    "stem_cin1": ("conv", (1, 12, 12, 1), (1, 5, 5, 7), 7, 1, G(3, 3, 2, 2)),
    "stem_cin1_same_b2": ("conv", (2, 9, 8, 1), (2, 9, 8, 4), 4, 1, G(3, 3, pad_h=1, pad_w=1)),
    "stem_cin1_5x3": ("conv", (1, 8, 9, 1), (1, 4, 9, 6), 6, 1, G(5, 3, 2, 1, 1, 1, 2, 1)),
    "dw3": ("depthwise_conv", (1, 7, 6, 4), (1, 7, 6, 4), 4, 4, G(3, 3, pad_h=1, pad_w=1, depth_multiplier=1)),
    "dw_m2_s2": ("depthwise_conv", (2, 9, 7, 3), (2, 4, 3, 6), 6, 3, G(3, 3, 2, 2, depth_multiplier=2)),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(SPARSE_CASES))
def test_sparse_plan_equals_unplanned(plib, case, fmt):
    op, xs, ys, rows, cin, geom = SPARSE_CASES[case]
    rng = np.random.default_rng(abs(hash((case, fmt))) % 2**32)
    planned = _sparse_plan(plib, op, fmt, rng, xs, ys, rows, cin, geom)
    if planned is None:
        return
    plan, nested, q, L = planned
    x = rng.integers(-128, 128, size=xs).astype(np.int8)
    for level in range(L):
        st_ref, y_ref = _unplanned(plib, op, geom, nested, level, q, x, ys)
        st, y = plan.run(level, x, ys)
        assert st == st_ref == kb.KS_OK
        np.testing.assert_array_equal(y, y_ref, err_msg=f"level {level}")
    for bad in (-1, L, 1 << 30, -(1 << 31)):
        assert plan.run(bad, x, ys)[0] == kb.KS_ERR_LEVEL
    if plib.ks_plan_scratch_size(plan.ptr) > 0:
        # A plan that needs scratch refuses a call without it instead of writing through NULL.
        assert plan.run(0, x, ys, with_scratch=False)[0] == kb.KS_ERR_ARG


def test_plan_validates_the_matrix(plib):
    rng = np.random.default_rng(3)
    W = rng.integers(-128, 128, size=(4, 10)).astype(np.int8)
    nested, _ = nested_masks.make_nested("nested_csr", W, 3, rng, in_channels=10)
    q = _quant(rng, 3, 4)
    nested.ptr = np.array(nested.ptr, copy=True)
    nested.ptr[5] = nested.ptr[-1] + 1  # a level pointer past the entries
    m, qs = nested.struct(), q.struct()
    plan = Plan(plib, (nested, q, m, qs, q._keep))
    assert plib.ks_plan_fully_connected_s8(plan.ptr, ctypes.byref(m), ctypes.byref(qs), 1) == kb.KS_ERR_FORMAT
    nested2, _ = nested_masks.make_nested("nested_csr", W, 3, rng, in_channels=10)
    q.shift[1, 2] = 31  # out of [-31, 30]
    m2, qs2 = nested2.struct(), q.struct()
    assert plib.ks_plan_fully_connected_s8(plan.ptr, ctypes.byref(m2), ctypes.byref(qs2), 1) != kb.KS_OK


DENSE_CASES = {
    "fc": ("fc", (3, 37), (3, 24), None),
    "pw": ("conv", (1, 6, 6, 12), (1, 6, 6, 16), G(1, 1)),
    "c3": ("conv", (1, 7, 7, 6), (1, 7, 7, 10), G(3, 3, pad_h=1, pad_w=1)),
    "dw": ("depthwise_conv", (1, 8, 8, 8), (1, 8, 8, 8), G(3, 3, pad_h=1, pad_w=1, depth_multiplier=1)),
    "dw_m2": ("depthwise_conv", (1, 9, 9, 4), (1, 5, 5, 8), G(3, 3, 2, 2, pad_h=1, pad_w=1, depth_multiplier=2)),
}


@pytest.mark.parametrize("case", list(DENSE_CASES))
def test_dense_plan_equals_unplanned(plib, case):
    op, xs, ys, geom = DENSE_CASES[case]
    rng = np.random.default_rng(len(case))
    rows = ys[-1]
    if op == "fc":
        W = rng.integers(-128, 128, size=(rows, xs[-1])).astype(np.int8)
    elif op == "conv":
        W = rng.integers(-128, 128, size=(rows, geom.kernel_h, geom.kernel_w, xs[-1])).astype(np.int8)
    else:
        W = rng.integers(-128, 128, size=(geom.kernel_h, geom.kernel_w, rows)).astype(np.int8)
    mult = rng.integers(2**30, 2**31 - 1, rows)
    q = kd.DenseQuant(
        -3,
        5,
        -128,
        127,
        np.where(rng.random(rows) < 0.3, -mult, mult),
        rng.integers(-12, -7, rows),
        rng.integers(-3000, 3000, rows),
    )
    qs = kd.quant_struct(q)
    plan = Plan(plib, (W, q, qs))
    if op == "fc":
        st = plib.ks_plan_dense_fully_connected_s8(plan.ptr, W.ctypes.data, rows, xs[-1], ctypes.byref(qs), xs[0])
    else:
        cp = geom.struct()
        st = getattr(plib, f"ks_plan_dense_{op}_s8")(
            plan.ptr, ctypes.byref(cp), W.ctypes.data, ctypes.byref(qs), kb._dims(xs), kb._dims(ys)
        )
    assert st == kb.KS_OK
    x = rng.integers(-128, 128, size=xs).astype(np.int8)
    if op == "fc":
        st_ref, y_ref = kd.fully_connected(plib, W, q, x)
    else:
        st_ref, y_ref, _ = kd.conv(plib, op, geom, W, q, x, ys)
    st, y = plan.run(0, x, ys)
    assert st == st_ref == kb.KS_OK
    np.testing.assert_array_equal(y, y_ref)
    assert plan.run(1, x, ys)[0] == kb.KS_ERR_LEVEL


def _near_int32_limits(rng, bias, mult, shift, shifts: tuple[int, int]) -> None:
    """The saturating add: accumulators within 2^21 of the int32 limits with
    the largest multiplier and right shifts in ``shifts``."""
    for start, lim in ((2, 2**31 - 1), (6, -(2**31))):
        sl = np.s_[:, start::8]
        bias[sl] = lim - np.sign(lim) * rng.integers(0, 2**21, size=bias[sl].shape)
        mult[sl] = 2**31 - 1
        shift[sl] = rng.integers(*shifts, size=shift[sl].shape)


def _planned_fc_equals_unplanned(plib, nested, rng, cols: int, rows: int, levels: int, batch: int,
                                 quant_params) -> None:
    """For three input/output offset and activation settings: the planned FC
    at every level equals the unplanned kernel."""
    for in_off, out_off, act in ((128, -128, (-128, 127)), (-127, 127, (-128, 127)), (5, -3, (-20, 90))):
        q = quant_params(in_off, out_off, act)
        m, qs = nested.struct(), q.struct()
        plan = Plan(plib, (nested, q, m, qs, q._keep))
        assert plib.ks_plan_fully_connected_s8(plan.ptr, ctypes.byref(m), ctypes.byref(qs), batch) == kb.KS_OK
        x = rng.integers(-128, 128, size=(batch, cols)).astype(np.int8)
        for level in range(levels):
            st, y = plan.run(level, x, (batch, rows))
            st_ref, y_ref = kb.fully_connected(plib, nested, level, q, x)
            assert st == st_ref == kb.KS_OK
            np.testing.assert_array_equal(y, y_ref, err_msg=f"offsets {in_off} {out_off} level {level}")


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row"])
def test_fc_plan_requantization_edges(plib, fmt):
    """The planned FC rows have their own requantization (a fast path for
    |multiplier| >= 2^30, shift in [-23, 0], else the general one): every
    shift, small and negative multipliers, biases at the int32 limits, narrow
    activation ranges and extreme offsets, against the unplanned kernel."""
    rng = np.random.default_rng(11)
    rows, cols, L = 64, 34 if fmt == "nested_block" else 33, 3  # int8 blocks: even widths (format v4)
    W = rng.choice(np.array([-128, -127, -1, 0, 1, 126, 127], np.int8), size=(rows, cols))
    W[1::8] = rng.choice(np.array([-1, 0, 0, 0, 0, 1], np.int8), size=W[1::8].shape)  # small sums: visible ties
    nested, _ = nested_masks.make_nested(fmt, W, L, rng, in_channels=cols)
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int64)
    mult[:, ::5] = rng.integers(1, 2**30, size=mult[:, ::5].shape)
    mult = np.where(rng.random((L, rows)) < 0.4, -mult, mult).astype(np.int32)
    shift = rng.integers(-31, 31, size=(L, rows)).astype(np.int32)
    shift[:, ::3] = rng.integers(-24, 1, size=shift[:, ::3].shape)
    bias = rng.integers(-(2**31), 2**31, size=(L, rows), dtype=np.int64).astype(np.int32)
    bias[:, ::4] = rng.integers(-1000, 1000, size=bias[:, ::4].shape)
    # Exact ties of the rounding divide: |m| = 2^30 halves the accumulator,
    # a right shift of 1 or 2 then ties for half or a quarter of the values.
    mult[:, 1::8] = np.where(rng.random(mult[:, 1::8].shape) < 0.5, 2**30, -(2**30))
    shift[:, 1::8] = rng.integers(-2, 1, size=shift[:, 1::8].shape)
    bias[:, 1::8] = rng.integers(-200, 200, size=bias[:, 1::8].shape)
    _near_int32_limits(rng, bias, mult, shift, (-24, -21))
    _planned_fc_equals_unplanned(
        plib, nested, rng, cols, rows, L, 3,
        lambda in_off, out_off, act: kb.QuantParams(in_off, out_off, act[0], act[1], mult, shift, bias))


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_fc_plan_all_fast_levels(plib, fmt, with_bias):
    """Levels whose every channel has multiplier >= 2^30 and shift in
    [-23, -1] take the planned FC's requantization loop without per-channel
    tests (chosen at Prepare): ties of the rounding divide, accumulators next
    to the int32 limits (the saturating add), more rows than one chunk of
    accumulators, with and without a bias, against the unplanned kernel
    (structured: four rows per input word, then 1-3 rows, and the inactive
    rows).  Level 1 has one channel with shift 0, so it takes the general
    loop (structured: when its width includes that row)."""
    rng = np.random.default_rng(12)
    rows, cols, L = 150, 34 if fmt == "nested_block" else 33, 3
    W = rng.choice(np.array([-128, -127, -1, 0, 1, 126, 127], np.int8), size=(rows, cols))
    W[1::8] = rng.choice(np.array([-1, 0, 0, 0, 0, 1], np.int8), size=W[1::8].shape)
    nested, _ = nested_masks.make_nested(fmt, W, L, rng, in_channels=cols)
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int64)
    shift = rng.integers(-23, 0, size=(L, rows)).astype(np.int32)
    bias = rng.integers(-(2**31), 2**31, size=(L, rows), dtype=np.int64)
    bias[:, ::4] = rng.integers(-1000, 1000, size=bias[:, ::4].shape)
    mult[:, 1::8] = 2**30
    shift[:, 1::8] = rng.integers(-2, 0, size=shift[:, 1::8].shape)
    bias[:, 1::8] = rng.integers(-200, 200, size=bias[:, 1::8].shape)
    _near_int32_limits(rng, bias, mult, shift, (-23, -21))
    shift[1, 77] = 0
    _planned_fc_equals_unplanned(
        plib, nested, rng, cols, rows, L, 2,
        lambda in_off, out_off, act: kb.QuantParams(in_off, out_off, act[0], act[1], mult.astype(np.int32), shift,
                                                    bias.astype(np.int32) if with_bias else None))


def test_fc_plan_structured_widths(plib):
    """Planned structured FC: every level width from 0 to 9 rows and 64 + 1
    to 64 + 3 (four rows per input word, then one to three rows, and a second
    chunk of accumulators), input widths not a multiple of four, all-fast and
    general requantization, against the unplanned kernel."""
    rng = np.random.default_rng(13)
    rows, cols = 67, 13
    W = rng.integers(-128, 128, size=(rows, cols)).astype(np.int8)
    out_w = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9, 65, 66, 67])
    in_w = np.sort(rng.integers(1, cols + 1, size=len(out_w)))
    L = len(out_w)
    nested = kb.encode_structured(W, out_w, in_w, cols, 0)
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int64)
    shift = rng.integers(-12, -1, size=(L, rows)).astype(np.int32)
    mult[1::2, 3] = -mult[1::2, 3]  # odd levels: one negative multiplier, the general loop
    bias = rng.integers(-5000, 5000, size=(L, rows)).astype(np.int32)
    q = kb.QuantParams(-7, 3, -128, 127, mult.astype(np.int32), shift, bias)
    m, qs = nested.struct(), q.struct()
    plan = Plan(plib, (nested, q, m, qs, q._keep))
    assert plib.ks_plan_fully_connected_s8(plan.ptr, ctypes.byref(m), ctypes.byref(qs), 2) == kb.KS_OK
    x = rng.integers(-128, 128, size=(2, cols)).astype(np.int8)
    for level in range(L):
        st, y = plan.run(level, x, (2, rows))
        st_ref, y_ref = kb.fully_connected(plib, nested, level, q, x)
        assert st == st_ref == kb.KS_OK
        np.testing.assert_array_equal(y, y_ref, err_msg=f"level {level} width {out_w[level]}")
