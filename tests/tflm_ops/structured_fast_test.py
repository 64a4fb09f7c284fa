# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The structured int8 fast paths (q15 im2col conv, four-channel depthwise)
against a numpy oracle of TFLM's reference arithmetic, at every level:
channel counts that do and do not divide by four, in_width runs with 0-3
padded lanes, the whole-window case (in_width == C, e.g. a 1-channel stem),
odd rows and pixels, stride, dilation, padding, batches, negative
multipliers, shifts that take the general requantizer (shift >= 0, right
shift > 23, multiplier < 2^30), calls where every channel is fast (SSAT or
clamp), tap-major and canonical depthwise weights."""

from __future__ import annotations

import nested_masks
import numpy as np
import pytest

from keras_subnets.firmware import core_binding as kb

INT32_MIN = -(2**31)


def _wrap32(v):
    return ((np.asarray(v, np.int64) + 2**31) % 2**32) - 2**31


def oracle_requant(acc, bias, mult, shift, out_off, act_min, act_max):
    """TFLM MultiplyByQuantizedMultiplier (double rounding) per channel, with
    the format's sign rule (a negative multiplier negates acc + bias).
    acc: int64 [..., rows]; tables: [rows]."""
    x = _wrap32(acc + bias)
    m = mult.astype(np.int64)
    x = np.where(m < 0, _wrap32(-x), x)
    m = np.abs(m)
    left = np.maximum(shift, 0).astype(np.int64)
    right = np.maximum(-shift, 0).astype(np.int64)
    a = _wrap32(x * (np.int64(1) << left))
    ab = a * m
    t = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    hi = np.where(t >= 0, t >> 31, -((-t) >> 31))
    mask = (np.int64(1) << right) - 1
    rem = hi & mask
    threshold = (mask >> 1) + (hi < 0)
    y = (hi >> right) + (rem > threshold) + out_off
    return np.clip(y, act_min, act_max).astype(np.int8)


def oracle_conv(x, W, first_level, level, geom, out_shape, q, k_rows):
    """int8 conv of the level's mask; W [rows][kh*kw*C] in OHWI order."""
    n, H, Wd, C = x.shape
    _, OH, OW, rows = out_shape
    Wk = np.where(first_level <= level, W, 0).astype(np.int64)
    xs = x.astype(np.int64) + q.input_offset
    acc = np.zeros(out_shape, np.int64)
    for ky in range(geom.kernel_h):
        for kx in range(geom.kernel_w):
            t = ky * geom.kernel_w + kx
            for oy in range(OH):
                iy = oy * geom.stride_h - geom.pad_h + ky * geom.dilation_h
                if not 0 <= iy < H:
                    continue
                for ox in range(OW):
                    ix = ox * geom.stride_w - geom.pad_w + kx * geom.dilation_w
                    if not 0 <= ix < Wd:
                        continue
                    acc[:, oy, ox, :] += xs[:, iy, ix, :] @ Wk[:, t * C : (t + 1) * C].T
    y = oracle_requant(
        acc, q.bias[level], q.multiplier[level], q.shift[level].astype(np.int64), q.output_offset, q.act_min, q.act_max
    )
    y[..., k_rows:] = q.output_offset  # inactive structured rows
    return y


def _quant(rng, L, rows, act):
    if act in ("fast", "fast_clamp"):
        # Every channel on the fast requantizer (no shift >= 0 or < -23, no
        # multiplier < 2^30): the call takes the loop without per-output
        # checks, with SSAT (full range) or the clamp.
        return kb.QuantParams(
            int(rng.integers(-127, 129)),
            int(rng.integers(-128, 128)),
            -128 if act == "fast" else -90,
            127 if act == "fast" else 100,
            rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int32) * rng.choice([-1, 1], size=(L, rows)),
            rng.integers(-14, -6, size=(L, rows)).astype(np.int8),
            rng.integers(-3000, 3000, size=(L, rows)).astype(np.int32),
        )
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int64)
    shift = rng.integers(-12, -6, size=(L, rows))
    # Channels that take the general requantizer: shift >= 0, right shift
    # > 23, |multiplier| < 2^30; and negative multipliers.
    shift[:, 0] = 1
    if rows > 2:
        shift[:, 2] = -26
        mult[:, 1] = rng.integers(2**20, 2**29, size=L)
    mult = np.where(rng.random((L, rows)) < 0.3, -mult, mult).astype(np.int32)
    bias = rng.integers(-3000, 3000, size=(L, rows)).astype(np.int32)
    return kb.QuantParams(
        int(rng.integers(-127, 129)), int(rng.integers(-128, 128)), act[0], act[1], mult, shift.astype(np.int8), bias
    )


# C, in_width per level, kernel, stride, dilation, padding (top, left), input HxW
CONV_CASES = [
    (8, (2, 5, 7, 8), (3, 3), (1, 1), (1, 1), (1, 1), (6, 5)),  # runs with 2, 3 padded lanes, 1 lane
    (12, (3, 4, 9, 12), (3, 3), (2, 2), (1, 1), (1, 0), (7, 8)),
    (16, (1, 6, 11, 16), (2, 3), (1, 2), (2, 1), (0, 2), (6, 7)),
    (1, (1, 1, 1, 1), (3, 3), (2, 2), (1, 1), (1, 1), (9, 9)),  # 1-channel stem: whole window, K = 9
    (3, (1, 2, 3, 3), (3, 3), (1, 1), (1, 1), (1, 1), (5, 6)),  # C % 4 != 0: whole window / row loop
    (6, (2, 5, 6, 6), (3, 2), (1, 1), (1, 1), (2, 1), (4, 5)),  # in_width 5: runs of 8 > C, row loop
    (8, (3, 4, 6, 8), (1, 1), (1, 1), (1, 1), (0, 0), (5, 3)),  # 1x1 pointwise, odd pixel count
    (5, (2, 3, 5, 5), (1, 1), (2, 1), (1, 1), (1, 0), (5, 4)),  # 1x1 with stride and padding
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
@pytest.mark.parametrize("act", [(-128, 127), (-100, 90), "fast", "fast_clamp"])
def test_structured_conv_against_numpy(lib, case, act):
    C, in_w, (kh, kw), (sh, sw), (dh, dw), (ph, pw), (H, Wd) = CONV_CASES[case]
    rng = np.random.default_rng(1000 + case)
    n, rows, L = 2, 7, len(in_w)
    out_w = (1, 3, 6, 7)
    OH = (H + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    OW = (Wd + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    out_shape = (n, OH, OW, rows)
    cols = kh * kw * C
    geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw)
    x = rng.integers(-128, 128, size=(n, H, Wd, C)).astype(np.int8)
    W = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
    nested = kb.encode_structured(W, out_w, in_w, C)
    fl = kb.structured_first_level(rows, cols, out_w, in_w, C)
    q = _quant(rng, L, rows, act)
    for k in range(L):
        status, y, _ = kb.conv(lib, "conv", geom, nested, k, q, x, out_shape)
        assert status == kb.KS_OK
        np.testing.assert_array_equal(
            y, oracle_conv(x, W, fl, k, geom, out_shape, q, out_w[k]), err_msg=f"case {case} level {k}"
        )


def test_structured_conv_scratch_covers_every_level(lib):
    """The buffer size does not depend on the level; the canary check in
    kb.conv fails a kernel that writes past it."""
    C, rows = 4, 5
    geom = kb.ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1)
    nested = kb.encode_structured(np.ones((rows, 9 * C), np.int8), (1, 3, 5), (1, 3, 4), C)
    q = kb.QuantParams(
        3,
        1,
        -128,
        127,
        np.full((3, rows), 2**30, np.int32),
        np.full((3, rows), -3, np.int8),
        np.zeros((3, rows), np.int32),
    )
    x = np.ones((1, 3, 3, C), np.int8)
    sizes = {kb.conv(lib, "conv", geom, nested, k, q, x, (1, 3, 3, rows))[2] for k in range(3)}
    assert len(sizes) == 1 and sizes.pop() > 0


def oracle_depthwise(x, W, level, out_w, geom, out_shape, q):
    """int8 depthwise conv (multiplier 1) of the level: channels < out_w[level]."""
    n, H, Wd, C = x.shape
    _, OH, OW, rows = out_shape
    xs = x.astype(np.int64) + q.input_offset
    acc = np.zeros(out_shape, np.int64)
    for ky in range(geom.kernel_h):
        for kx in range(geom.kernel_w):
            t = ky * geom.kernel_w + kx
            for oy in range(OH):
                iy = oy * geom.stride_h - geom.pad_h + ky * geom.dilation_h
                if not 0 <= iy < H:
                    continue
                for ox in range(OW):
                    ix = ox * geom.stride_w - geom.pad_w + kx * geom.dilation_w
                    if 0 <= ix < Wd:
                        acc[:, oy, ox, :] += xs[:, iy, ix, :] * W[:, t].astype(np.int64)
    y = oracle_requant(
        acc, q.bias[level], q.multiplier[level], q.shift[level].astype(np.int64), q.output_offset, q.act_min, q.act_max
    )
    y[..., out_w[level] :] = q.output_offset
    return y


# C, widths per level, kernel, stride, dilation, padding (top, left), input HxW
DW_CASES = [
    (8, (2, 5, 7, 8), (3, 3), (1, 1), (1, 1), (1, 1), (6, 5)),  # partial groups of 2, 1, 3 lanes
    (6, (1, 3, 5, 6), (3, 3), (2, 2), (1, 1), (1, 1), (7, 6)),  # last lanes past C: one channel at a time
    (12, (4, 9, 11, 12), (2, 3), (1, 2), (2, 1), (0, 2), (6, 7)),
    (16, (3, 8, 13, 16), (5, 5), (1, 1), (1, 1), (2, 2), (5, 5)),  # padding around every window
]


@pytest.mark.parametrize("case", range(len(DW_CASES)))
@pytest.mark.parametrize("tap_major", [0, 1])
@pytest.mark.parametrize("act", [(-128, 127), (-100, 90), "fast", "fast_clamp"])
def test_structured_depthwise_against_numpy(lib, case, tap_major, act):
    C, widths, (kh, kw), (sh, sw), (dh, dw), (ph, pw), (H, Wd) = DW_CASES[case]
    rng = np.random.default_rng(2000 + case)
    n, L, taps = 2, len(widths), kh * kw
    OH = (H + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    OW = (Wd + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    out_shape = (n, OH, OW, C)
    geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw, depth_multiplier=1)
    x = rng.integers(-128, 128, size=(n, H, Wd, C)).astype(np.int8)
    W = rng.integers(-127, 128, size=(C, taps)).astype(np.int8)  # canonical [C][taps]
    nested = kb.encode_structured(W, widths, widths, C, 1)
    if tap_major:
        nested.values = np.ascontiguousarray(W.T.reshape(-1))  # TFLite's [kh][kw][C]
        nested.tap_major = 1
    q = _quant(rng, L, C, act)
    for k in range(L):
        status, y, _ = kb.conv(lib, "depthwise_conv", geom, nested, k, q, x, out_shape)
        assert status == kb.KS_OK
        np.testing.assert_array_equal(
            y, oracle_depthwise(x, W, k, widths, geom, out_shape, q), err_msg=f"case {case} level {k}"
        )


@pytest.mark.parametrize("rows", [9, 12, 3])
@pytest.mark.parametrize("act", [(-128, 127), (-100, 90), "fast"])
def test_structured_fc_against_numpy(lib, rows, act):
    """Rows in fours then a pair or a single row; in_width with a 0-3 tail;
    three batches."""
    rng = np.random.default_rng(3000 + rows)
    cols, L, batches = 23, 4, 3
    out_w = (1, 2, rows - 1, rows)
    in_w = (3, 8, 18, 23)
    W = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
    x = rng.integers(-128, 128, size=(batches, cols)).astype(np.int8)
    nested = kb.encode_structured(W, out_w, in_w, cols)
    fl = kb.structured_first_level(rows, cols, out_w, in_w, cols)
    q = _quant(rng, L, rows, act)
    for k in range(L):
        status, y = kb.fully_connected(lib, nested, k, q, x)
        assert status == kb.KS_OK
        acc = (x.astype(np.int64) + q.input_offset) @ np.where(fl <= k, W, 0).astype(np.int64).T
        exp = oracle_requant(
            acc, q.bias[k], q.multiplier[k], q.shift[k].astype(np.int64), q.output_offset, q.act_min, q.act_max
        )
        exp[:, out_w[k] :] = q.output_offset
        np.testing.assert_array_equal(y, exp, err_msg=f"rows {rows} level {k}")


# C, rows, kernel, stride, dilation, padding (top, left), input HxW, batches
SPARSE_CONV_CASES = [
    (8, 6, (3, 3), (1, 1), (1, 1), (1, 1), (5, 6), 2),  # word-wise im2col, 60 pixels
    (3, 5, (3, 3), (2, 2), (1, 1), (1, 1), (7, 6), 1),  # odd K = 27: half-empty last block, 12 pixels
    (32, 4, (3, 3), (1, 2), (2, 1), (2, 0), (6, 7), 1),  # K = 288: uint16 column indices, 5x3 pixels
    (5, 7, (2, 3), (1, 1), (1, 1), (0, 2), (4, 5), 3),  # 3 x 3 x 7 = 63 pixels: a short last group
    (16, 6, (1, 1), (1, 1), (1, 1), (0, 0), (5, 7), 2),  # 1x1: sparse levels row-outer, dense ones im2col
    (5, 4, (1, 1), (1, 1), (1, 1), (0, 0), (3, 5), 1),  # 1x1, odd C: blocks always through the im2col
    (8, 5, (1, 1), (2, 1), (1, 1), (1, 0), (5, 4), 1),  # 1x1 with stride and padding
]


@pytest.mark.parametrize("case", range(len(SPARSE_CONV_CASES)))
@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row"])
@pytest.mark.parametrize("act", [(-100, 90), "fast"])
def test_sparse_conv_against_numpy(lib, case, fmt, act):
    """ks__sparse_conv_s8 (four pixels per entry through a q15 im2col)."""
    C, rows, (kh, kw), (sh, sw), (dh, dw), (ph, pw), (H, Wd), n = SPARSE_CONV_CASES[case]
    rng = np.random.default_rng(4000 + case)
    L = 3
    OH = (H + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    OW = (Wd + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    out_shape = (n, OH, OW, rows)
    cols = kh * kw * C
    geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw)
    x = rng.integers(-128, 128, size=(n, H, Wd, C)).astype(np.int8)
    W = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
    nested, fl = nested_masks.make_nested(fmt, W, L, rng, in_channels=C)
    q = _quant(rng, L, rows, act)
    for k in range(L):
        status, y, _ = kb.conv(lib, "conv", geom, nested, k, q, x, out_shape)
        assert status == kb.KS_OK
        np.testing.assert_array_equal(
            y, oracle_conv(x, W, fl, k, geom, out_shape, q, rows), err_msg=f"case {case} {fmt} level {k}"
        )


def test_sparse_conv_int32_pointers(lib):
    """More than 65535 entries: int32 level pointers (format v2 rule)."""
    C, rows = 64, 128
    geom = kb.ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1)
    rng = np.random.default_rng(5)
    W = rng.integers(-127, 128, size=(rows, 9 * C)).astype(np.int8)
    W[W == 0] = 1
    fl = nested_masks.random_levels(rng, 2, W.shape, keep_prob=(0.5, 1.0))
    nested = kb.encode_nested_csr(W, fl, 2)
    assert nested.ptr.dtype == np.int32
    x = rng.integers(-128, 128, size=(1, 4, 3, C)).astype(np.int8)
    q = _quant(rng, 2, rows, "fast")
    for k in range(2):
        status, y, _ = kb.conv(lib, "conv", geom, nested, k, q, x, (1, 4, 3, rows))
        assert status == kb.KS_OK
        np.testing.assert_array_equal(y, oracle_conv(x, W, fl, k, geom, (1, 4, 3, rows), q, rows))


# C, kernel, stride, dilation, padding (top, left), input HxW, batches
SPARSE_DW_CASES = [
    (8, (3, 3), (1, 1), (1, 1), (1, 1), (6, 5), 2),
    (5, (3, 3), (2, 2), (1, 1), (1, 1), (7, 6), 1),
    (6, (2, 3), (1, 2), (2, 1), (2, 0), (6, 7), 1),  # rows with every tap in the padding
    (4, (5, 5), (1, 1), (1, 1), (2, 2), (4, 4), 1),  # no interior column at all
]


@pytest.mark.parametrize("case", range(len(SPARSE_DW_CASES)))
@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row"])
@pytest.mark.parametrize("act", [(-100, 90), "fast", "fast_clamp"])
def test_sparse_depthwise_few_entries_against_numpy(lib, case, fmt, act):
    """Channels with one to three entries take ks__dw_few_s8 (every requantization mode)."""
    C, (kh, kw), (sh, sw), (dh, dw), (ph, pw), (H, Wd), n = SPARSE_DW_CASES[case]
    rng = np.random.default_rng(6000 + case)
    L, taps = 3, kh * kw
    OH = (H + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    OW = (Wd + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    out_shape = (n, OH, OW, C)
    geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw, depth_multiplier=1)
    x = rng.integers(-128, 128, size=(n, H, Wd, C)).astype(np.int8)
    W = rng.integers(-127, 128, size=(C, taps)).astype(np.int8)
    W[W == 0] = 1
    # Few entries per channel at the sparse levels (0-3), more at the last.
    fl = nested_masks.random_levels(rng, L, W.shape, keep_prob=(0.15, 0.2, 0.6))
    if fmt == "row":
        counts = (1, 2, max(3, taps // 2))
        fl = np.full(W.shape, L, np.int32)
        for r in range(C):
            for j, c in enumerate(rng.permutation(taps)):
                fl[r, c] = int(np.searchsorted(counts, j, side="right"))
        nested = kb.encode_row(W, fl, L)
    elif fmt == "nested_block":
        bfl = nested_masks.random_levels(rng, L, (C, (taps + 1) // 2), keep_prob=(0.15, 0.2, 0.6))
        fl = np.repeat(bfl, 2, axis=1)[:, :taps]
        nested = kb.encode_nested_block(W, bfl, L)
    else:
        nested = kb.encode_nested_csr(W, fl, L)
    q = _quant(rng, L, C, act)
    for k in range(L):
        status, y, _ = kb.conv(lib, "depthwise_conv", geom, nested, k, q, x, out_shape)
        assert status == kb.KS_OK
        Wk = np.where(fl <= k, W, 0)
        exp = oracle_depthwise(x, Wk, k, (C,) * L, geom, out_shape, q)
        np.testing.assert_array_equal(y, exp, err_msg=f"case {case} {fmt} level {k}")
