# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""tflm_ops without TFLM: requantization helpers, validators, error paths,
geometry TFLM models cannot express (stride and dilation together, explicit
padding), and the Cortex-M cross build."""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess

import nested_masks
import numpy as np
import pytest

from keras_subnets.firmware import core_binding as kb

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# ---------------------------------------------------------------------------
# Python transcriptions of TFLM's QuantizeMultiplier and (double-rounding)
# MultiplyByQuantizedMultiplier, from tensorflow/lite/kernels/internal.
# ---------------------------------------------------------------------------


def tflm_quantize_multiplier(d: float) -> tuple[int, int]:
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    x = q * (1 << 31)
    q_fixed = int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))  # std::round
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def _wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def tflm_mbqm(x: int, m: int, shift: int) -> int:
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    a = _wrap32(x * (1 << left))
    if a == m == INT32_MIN:
        hi = INT32_MAX
    else:
        ab = a * m
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        t = ab + nudge
        hi = abs(t) // (1 << 31) * (1 if t >= 0 else -1)  # C division truncates
    mask = (1 << right) - 1
    rem = hi & mask
    threshold = (mask >> 1) + (1 if hi < 0 else 0)
    return (hi >> right) + (1 if rem > threshold else 0)


def test_quantize_multiplier_matches_tflm(lib):
    rng = np.random.default_rng(0)
    values = list(rng.uniform(0, 1, 2000)) + list(10.0 ** rng.uniform(-12, 3, 2000))
    values += [0.0, 1.0, 0.5, 2**-31, 2**-32, 0.9999999999, 1 - 2**-33, 3.0, 2**-31 * 0.75]
    for d in values:
        assert kb.quantize_multiplier(lib, d) == tflm_quantize_multiplier(d), d
    m, s = ctypes.c_int32(), ctypes.c_int32()
    assert lib.ks_quantize_multiplier(-0.5, ctypes.byref(m), ctypes.byref(s)) == kb.KS_ERR_ARG
    assert lib.ks_quantize_multiplier(float("nan"), ctypes.byref(m), ctypes.byref(s)) == kb.KS_ERR_ARG


def test_multiply_by_quantized_multiplier_matches_tflm(lib):
    rng = np.random.default_rng(1)
    xs = list(rng.integers(-(2**20), 2**20, 3000)) + [0, 1, -1, INT32_MAX, INT32_MIN, 2**24, -(2**24)]
    for i, x in enumerate(xs):
        m = int(rng.integers(2**30, 2**31)) if i % 7 else int(rng.integers(0, 2**31))
        s = int(rng.integers(-31, 8))
        assert lib.ks_multiply_by_quantized_multiplier(int(x), m, s) == tflm_mbqm(int(x), m, s), (x, m, s)
    # Exact ties, where the two rounding schemes of TFLM differ.
    for x in range(-40, 41):
        for s in (-1, -2, -3, -5):
            assert lib.ks_multiply_by_quantized_multiplier(x, 1 << 30, s) == tflm_mbqm(x, 1 << 30, s)


def test_index_width_rule(lib):
    assert lib.ks_index_is_u8(1) == 1
    assert lib.ks_index_is_u8(256) == 1
    assert lib.ks_index_is_u8(257) == 0


def test_pointer_width_rule(lib):
    """Format v2: level pointers are uint16 up to 65535 entries, else int32."""
    for n in (0, 1, 65534, 65535, 65536, 1 << 20):
        assert lib.ks_ptr_is_u16(n) == int(n <= 65535)
        assert kb.pointer_dtype(n) == (np.uint16 if n <= 65535 else np.int32)


# ---------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------


def _sample(fmt: str, rows=6, cols=21, L=3, seed=0, dtype=np.int8, dm=0):
    rng = np.random.default_rng(seed)
    W = rng.integers(-127, 128, size=(rows, cols)).astype(dtype)
    in_ch = (rows // dm) if dm else cols
    nested, fl = nested_masks.make_nested(fmt, W, L, rng, in_channels=in_ch, depth_multiplier=dm)
    return nested, W, fl


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_validators_accept_encoded(lib, fmt, dtype):
    for seed in range(5):
        cols = 20 + seed
        if fmt == "nested_block" and dtype == np.int8 and cols % 2:
            # Format v4: an int8 block reads its two values from D's row as a pair; odd widths are refused.
            odd, _, _ = _sample(fmt, seed=seed, dtype=dtype, cols=cols)
            assert kb.validate(lib, odd) == kb.KS_ERR_FORMAT
            cols += 1
        nested, _, _ = _sample(fmt, seed=seed, dtype=dtype, cols=cols)
        fn = {
            "nested_csr": "ks_validate_nested_csr",
            "nested_block": "ks_validate_nested_block",
            "row": "ks_validate_row",
            "structured": "ks_validate_structured",
        }[fmt]
        assert kb.validate(lib, nested, fn) == kb.KS_OK
        assert kb.validate(lib, nested) == kb.KS_OK


def _wide_sample(fmt: str, seed=0):
    """A matrix with more than 65535 entries: int32 level pointers (format v2)."""
    rows, cols = (320, 400) if fmt == "nested_csr" else (320, 900)
    nested, W, fl = _sample(fmt, rows=rows, cols=cols, seed=seed)
    assert nested.ptr.dtype == np.int32 and nested.indices.size > 65535
    return nested, W, fl


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block"])
@pytest.mark.parametrize("width", ["uint16", "int32"])
def test_validate_pointer_corruptions(lib, fmt, width):
    nested, _, _ = _sample(fmt, cols=22) if width == "uint16" else _wide_sample(fmt)
    assert nested.ptr.dtype == np.dtype(width)
    L, rows = nested.num_levels, nested.rows
    assert kb.validate(lib, nested) == kb.KS_OK
    good = nested.ptr.copy()
    top = int(np.iinfo(good.dtype).max)

    def check(mutate, expected=kb.KS_ERR_FORMAT):
        nested.ptr = good.copy()
        mutate(nested.ptr)
        assert kb.validate(lib, nested) == expected
        nested.ptr = good.copy()

    check(lambda p: p.__setitem__(0, 1))  # does not start at 0
    check(lambda p: p.__setitem__(-1, p[-1] + 1))  # past the end of the arrays
    check(lambda p: p.__setitem__(-1, p[-1] - 1))  # leaves entries unreferenced
    mid = rows * L // 2
    # decreasing pointer somewhere inside
    check(lambda p: p.__setitem__(mid, p[mid + 1] + 1))
    if width == "int32":
        check(lambda p: p.__setitem__(mid, -5))
    check(lambda p: p.__setitem__(mid, top))  # far past the entries (65535 / INT32_MAX)
    # Every pointer at the end: groups empty but the final count stays right
    # only for the last group; all earlier groups then hold "negative" ranges.
    check(lambda p: p.__setitem__(slice(1, -1), p[-1] + 3))
    # A pointer table one element short or long is refused before it is read.
    m = nested.struct()
    m.num_ptr -= 1
    assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block"])
def test_int32_pointers_fc_and_pointwise_against_numpy(lib, fmt):
    """Above 65535 entries the kernels walk int32 pointers (FC rows and the 1x1 pointwise path)."""
    nested, W, fl = _wide_sample(fmt, seed=4)
    rows, cols = W.shape
    rng = np.random.default_rng(5)
    L = nested.num_levels
    x = rng.integers(-128, 128, size=(6, cols)).astype(np.int8)  # 6 pixels: 4-pixel loop and tail
    in_off, out_off = 11, 3
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int32)
    shift = rng.integers(-18, -14, size=(L, rows)).astype(np.int8)
    bias = rng.integers(-5000, 5000, size=(L, rows)).astype(np.int32)
    q = kb.QuantParams(in_off, out_off, -128, 127, mult, shift, bias)
    geom = kb.ConvGeometry(1, 1)
    for k in range(L):
        acc = (x.astype(np.int64) + in_off) @ np.where(fl <= k, W, 0).astype(np.int64).T + bias[k]
        exp = np.array([[tflm_mbqm(int(a), int(mult[k, o]), int(shift[k, o])) for o, a in enumerate(r)]
                        for r in acc])
        exp = np.clip(exp + out_off, -128, 127).astype(np.int8)
        status, y = kb.fully_connected(lib, nested, k, q, x)
        assert status == kb.KS_OK
        np.testing.assert_array_equal(y, exp, err_msg=f"FC level {k}")
        status, y, _ = kb.conv(lib, "conv", geom, nested, k, q, x.reshape(1, 2, 3, cols), (1, 2, 3, rows))
        assert status == kb.KS_OK
        np.testing.assert_array_equal(y.reshape(6, rows), exp, err_msg=f"1x1 conv level {k}")


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row"])
def test_validate_index_corruptions(lib, fmt):
    nested, _, _ = _sample(fmt, cols=22 if fmt == "nested_block" else 21)
    space = 11 if fmt == "nested_block" else 21
    good = nested.indices.copy()
    assert kb.validate(lib, nested) == kb.KS_OK
    j = 0
    nested.indices[j] = space  # first index outside the row
    assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
    nested.indices[j] = 255
    assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
    nested.indices[:] = good
    # Two equal indices inside the first group of a row (group of size >= 2).
    if fmt == "row":
        n_max = int(nested.counts[-1])
        if nested.counts[0] >= 2:
            nested.indices[1] = nested.indices[0]
            assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
        nested.indices[:] = good
        assert n_max >= 1
    else:
        for g in range(nested.rows * nested.num_levels):
            b, e = nested.ptr[g], nested.ptr[g + 1]
            if e - b >= 2:
                nested.indices[b + 1] = nested.indices[b]  # duplicate -> not ascending
                assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
                nested.indices[:] = good
                nested.indices[b], nested.indices[b + 1] = good[b + 1], good[b]  # descending
                assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
                break
        nested.indices[:] = good
    assert kb.validate(lib, nested) == kb.KS_OK


def test_validate_block_odd_padding_value(lib):
    nested, _, _ = _sample("nested_block", cols=21, dtype=np.float32)  # int8 (format v4) stores no values
    last = (21 + 1) // 2 - 1
    hits = np.nonzero(nested.indices == last)[0]
    assert hits.size, "sample should contain the half-empty block"
    nested.values[2 * hits[0] + 1] = 5
    assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT


def test_validate_header_and_sizes(lib):
    for fmt in ("nested_csr", "nested_block", "row", "structured"):
        nested, _, _ = _sample(fmt)
        for bad_L in (0, 17, -1):
            m = nested.struct()
            m.num_levels = bad_L
            assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT, (fmt, bad_L)
        m = nested.struct()
        m.num_values -= 1
        assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT, fmt
        m = nested.struct()
        m.format = 9
        assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT
        m = nested.struct()
        m.dtype = 7
        assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT
        m = nested.struct()
        m.values = None
        assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_ARG
    assert lib.ks_validate_matrix(None) == kb.KS_ERR_ARG
    # Calling a validator for the wrong format is an argument error.
    nested, _, _ = _sample("row")
    assert kb.validate(lib, nested, "ks_validate_nested_csr") == kb.KS_ERR_ARG


def test_validate_row_counts(lib):
    nested, _, _ = _sample("row", cols=21)
    good = nested.counts.copy()
    nested.counts = good[::-1].copy()
    if not np.all(good == good[0]):
        assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT  # decreasing
    nested.counts = good.copy()
    nested.counts[-1] = 22  # more than cols (and sizes no longer match)
    assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
    nested.counts = good.copy()
    nested.counts[0] = -1
    assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
    nested.counts = good.copy()
    assert kb.validate(lib, nested) == kb.KS_OK


def test_validate_structured_widths(lib):
    nested, _, _ = _sample("structured", rows=6, cols=21)
    gw_out, gw_in = nested.out_width.copy(), nested.in_width.copy()

    def check(out_w, in_w, expected=kb.KS_ERR_FORMAT):
        nested.out_width, nested.in_width = np.array(out_w, np.int32), np.array(in_w, np.int32)
        assert kb.validate(lib, nested) == expected, (out_w, in_w)

    check([1, 2, 6], [3, 5, 21], kb.KS_OK)
    check([3, 2, 6], [3, 5, 21])  # out widths decrease
    check([1, 2, 6], [6, 5, 21])  # in widths decrease
    check([1, 2, 7], [3, 5, 21])  # more rows than exist
    check([1, 2, 6], [3, 5, 22])  # more input channels than exist
    check([-1, 2, 6], [3, 5, 21])
    nested.out_width, nested.in_width = gw_out, gw_in
    m = nested.struct()
    m.in_channels = 4  # 21 columns are not a whole number of 4-channel taps
    assert lib.ks_validate_structured(ctypes.byref(m)) == kb.KS_ERR_FORMAT
    # Depthwise: out_width must equal in_width * depth_multiplier.
    dw, _, _ = _sample("structured", rows=6, cols=9, dm=2)
    assert kb.validate(lib, dw) == kb.KS_OK
    dw.out_width = dw.out_width.copy()
    dw.out_width[-1] = dw.in_width[-1] * 2 - 1
    assert kb.validate(lib, dw) == kb.KS_ERR_FORMAT


def test_tap_major_structured_depthwise(lib):
    """Format v3 (dense_top): a structured depthwise matrix may hold TFLite's [kh][kw][rows] filter;
    every level then gives what the canonical [rows][taps] layout gives. Other matrices refuse the flag."""
    rng = np.random.default_rng(5)
    L, C, m = 3, 5, 2
    rows, cols = C * m, 9
    W = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
    canonical, _ = nested_masks.make_nested("structured", W, L, rng, in_channels=C, depth_multiplier=m)
    tap_major = kb.Nested("structured", L, rows, cols, np.ascontiguousarray(W.T.reshape(-1)),
                          out_width=canonical.out_width, in_width=canonical.in_width, in_channels=C,
                          depth_multiplier=m, tap_major=1)
    assert kb.validate(lib, tap_major) == kb.KS_OK
    mult = rng.integers(2**30, 2**31, size=(L, rows)).astype(np.int32)
    shift = rng.integers(-12, -7, size=(L, rows)).astype(np.int8)
    q = kb.QuantParams(9, -4, -120, 110, mult, shift, rng.integers(-500, 500, size=(L, rows)).astype(np.int32))
    geom = kb.ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1, depth_multiplier=m)
    x = rng.integers(-128, 128, size=(1, 6, 5, C)).astype(np.int8)
    for k in range(L):
        s1, y1, _ = kb.conv(lib, "depthwise_conv", geom, canonical, k, q, x, (1, 6, 5, rows))
        s2, y2, _ = kb.conv(lib, "depthwise_conv", geom, tap_major, k, q, x, (1, 6, 5, rows))
        assert s1 == s2 == kb.KS_OK
        np.testing.assert_array_equal(y2, y1, err_msg=f"level {k}")
    tap_major.tap_major = 2
    assert kb.validate(lib, tap_major) == kb.KS_ERR_FORMAT
    conv, _, _ = _sample("structured", rows=6, cols=21)
    conv.tap_major = 1  # FC / conv: TFLite's layout is the canonical one, no flag
    assert kb.validate(lib, conv) == kb.KS_ERR_FORMAT
    csr, _, _ = _sample("nested_csr", rows=6, cols=21, dtype=np.float32)
    csr.tap_major = 1  # float32 sparse values are per entry: no layout to flag
    assert kb.validate(lib, csr) == kb.KS_ERR_FORMAT


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row"])
def test_sparse_int8_values_from_dense_weights(lib, fmt):
    """Format v4: an int8 sparse matrix's values are the dense weights D (rows*cols), canonical or, for
    depthwise, TFLite's tap-major filter; both give the numpy oracle at every level. FC and conv refuse a
    tap-major matrix; D of the wrong size is refused."""
    rng = np.random.default_rng(11)
    L, C = 3, 6
    taps = 4 if fmt == "nested_block" else 9  # int8 blocks need an even width
    kh, kw = (2, 2) if taps == 4 else (3, 3)
    W = rng.integers(-127, 128, size=(C, taps)).astype(np.int8)
    canonical, fl = nested_masks.make_nested(fmt, W, L, rng, in_channels=taps)
    assert canonical.values.size == C * taps and kb.validate(lib, canonical) == kb.KS_OK
    tap_major = kb.Nested(fmt, L, C, taps, np.ascontiguousarray(W.T.reshape(-1)), indices=canonical.indices,
                          ptr=canonical.ptr, counts=canonical.counts, tap_major=1)
    assert kb.validate(lib, tap_major) == kb.KS_OK
    mult = rng.integers(2**30, 2**31, size=(L, C)).astype(np.int32)
    shift = rng.integers(-12, -7, size=(L, C)).astype(np.int8)
    bias = rng.integers(-500, 500, size=(L, C)).astype(np.int32)
    q = kb.QuantParams(9, -4, -128, 127, mult, shift, bias)
    geom = kb.ConvGeometry(kh, kw, 1, 1, 1, 1, 0, 0, depth_multiplier=1)
    x = rng.integers(-128, 128, size=(1, 5, 6, C)).astype(np.int8)
    oh, ow = 5 - kh + 1, 6 - kw + 1
    for k in range(L):
        wk = np.where(fl <= k, W, 0).astype(np.int64)
        acc = np.zeros((oh, ow, C), np.int64)
        for ky in range(kh):
            for kx in range(kw):
                acc += (x[0, ky:ky + oh, kx:kx + ow].astype(np.int64) + 9) * wk[:, ky * kw + kx]
        acc += bias[k]
        exp = np.array([tflm_mbqm(int(a), int(mult[k, o % C]), int(shift[k, o % C]))
                        for o, a in enumerate(acc.reshape(-1))]).reshape(1, oh, ow, C)
        exp = np.clip(exp - 4, -128, 127).astype(np.int8)
        for nested in (canonical, tap_major):
            status, y, _ = kb.conv(lib, "depthwise_conv", geom, nested, k, q, x, (1, oh, ow, C))
            assert status == kb.KS_OK
            np.testing.assert_array_equal(y, exp, err_msg=f"{fmt} tap_major={nested.tap_major} level {k}")
    status, _ = kb.fully_connected(lib, tap_major, 0, q, rng.integers(-128, 128, size=(2, taps)).astype(np.int8))
    assert status == kb.KS_ERR_ARG
    status, _, _ = kb.conv(lib, "conv", kb.ConvGeometry(1, 1), tap_major, 0, q,
                           rng.integers(-128, 128, size=(1, 2, 2, taps)).astype(np.int8), (1, 2, 2, C))
    assert status == kb.KS_ERR_ARG
    m = canonical.struct()
    m.num_values -= 1
    assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT


def test_validate_quant_params(lib):
    L, rows = 2, 3
    mult = np.full((L, rows), 1 << 30, np.int32)
    shift = np.full((L, rows), -3, np.int32)

    def status(**kw):
        args = dict(input_offset=5, output_offset=-3, act_min=-128, act_max=127, multiplier=mult, shift=shift)
        args.update(kw)
        return lib.ks_validate_quant_params(kb.QuantParams(**args).struct(), L, rows)

    assert status() == kb.KS_OK
    assert status(act_min=10, act_max=9) == kb.KS_ERR_ARG
    assert status(input_offset=129) == kb.KS_ERR_ARG
    assert status(output_offset=128) == kb.KS_ERR_ARG
    bad = shift.copy()
    bad[1, 2] = 31
    assert status(shift=bad) == kb.KS_ERR_ARG
    bad[1, 2] = -32
    assert status(shift=bad) == kb.KS_ERR_ARG
    badm = mult.copy()
    badm[0, 0] = -(1 << 30)  # a negative per-level BatchNorm scale is valid
    assert status(multiplier=badm) == kb.KS_OK
    badm[0, 0] = -(2**31)  # INT32_MIN has no magnitude to negate
    assert status(multiplier=badm) == kb.KS_ERR_ARG


def test_table_length_and_prefix_validation(lib):
    """Format v2 table layouts: shared [rows], per level [L][rows], prefix (structured: Σ out_width)."""
    nested, _, _ = _sample("structured", rows=6, cols=8, L=3, seed=2)
    ow = [int(v) for v in nested.out_width]
    m = nested.struct()
    assert lib.ks_table_length(ctypes.byref(m), kb.KS_TABLES_SHARED) == 6
    assert lib.ks_table_length(ctypes.byref(m), kb.KS_TABLES_PER_LEVEL) == 18
    assert lib.ks_table_length(ctypes.byref(m), kb.KS_TABLES_PREFIX) == sum(ow)
    assert lib.ks_table_length(ctypes.byref(m), 3) == -1
    csr, _, _ = _sample("nested_csr")
    assert lib.ks_table_length(ctypes.byref(csr.struct()), kb.KS_TABLES_PREFIX) == -1
    n = sum(ow)
    mult = np.full(n, 1 << 30, np.int32)
    shift = np.full(n, -3, np.int8)

    def status(nst=nested, **kw):
        args = dict(input_offset=5, output_offset=-3, act_min=-128, act_max=127, multiplier=mult, shift=shift,
                    layout=kb.KS_TABLES_PREFIX)
        args.update(kw)
        q = kb.QuantParams(**args).struct()
        return lib.ks_validate_quant_params_matrix(ctypes.byref(q), ctypes.byref(nst.struct()))

    assert status() == kb.KS_OK
    if n:
        bad = shift.copy()
        bad[-1] = 31  # the last stored entry is checked ...
        assert status(shift=bad) == kb.KS_ERR_ARG
    assert status(nst=csr) == kb.KS_ERR_ARG  # ... and a prefix needs structured widths
    assert status(layout=7) == kb.KS_ERR_ARG
    # The (num_levels, rows) validator cannot size a prefix table.
    q = kb.QuantParams(5, -3, -128, 127, mult, shift, layout=kb.KS_TABLES_PREFIX).struct()
    assert lib.ks_validate_quant_params(ctypes.byref(q), 3, 6) == kb.KS_ERR_ARG


@pytest.mark.parametrize("op", ["fc", "conv", "depthwise_conv"])
def test_prefix_tables_match_per_level_tables(lib, op):
    """A structured layer's prefix tables (exact length, no inactive rows) give the same outputs
    as the full [L][rows] tables at every level, int8 and float32."""
    rng = np.random.default_rng(11)
    L = 4
    if op == "depthwise_conv":
        C, m = 5, 2
        rows, cols, in_ch = C * m, 9, C
        geom = kb.ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1, depth_multiplier=m)
    elif op == "conv":
        C, m = 6, 0
        rows, cols, in_ch = 7, 9 * C, C
        geom = kb.ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1)
    else:
        C, m = 12, 0
        rows, cols, in_ch = 9, 12, 12
    W8 = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
    Wf = rng.normal(size=(rows, cols)).astype(np.float32)
    nested8, _ = nested_masks.make_nested("structured", W8, L, rng, in_channels=in_ch, depth_multiplier=m)
    out_w = nested8.out_width
    nestedf = kb.encode_structured(Wf, out_w, nested8.in_width, in_ch, m)
    sign = rng.choice([-1, 1], size=(L, rows))
    mult = (sign * rng.integers(2**30, 2**31, size=(L, rows))).astype(np.int32)
    shift = rng.integers(-12, -7, size=(L, rows)).astype(np.int8)
    bias = rng.integers(-500, 500, size=(L, rows)).astype(np.int32)
    scale, fbias = rng.uniform(0.5, 2, (L, rows)), rng.normal(size=(L, rows))
    full_q = kb.QuantParams(9, -4, -120, 110, mult, shift, bias)
    full_p = kb.FloatParams(-2.0, 2.0, scale=scale, bias=fbias)
    pre_q = kb.QuantParams(9, -4, -120, 110, kb.prefix_tables(mult, out_w), kb.prefix_tables(shift, out_w),
                           kb.prefix_tables(bias, out_w), layout=kb.KS_TABLES_PREFIX)
    pre_p = kb.FloatParams(-2.0, 2.0, scale=kb.prefix_tables(scale, out_w), bias=kb.prefix_tables(fbias, out_w),
                           layout=kb.KS_TABLES_PREFIX)
    assert pre_q.multiplier.size == int(np.sum(out_w)) < L * rows or np.all(out_w == rows)
    m8 = nested8.struct()
    assert lib.ks_validate_quant_params_matrix(ctypes.byref(pre_q.struct()), ctypes.byref(m8)) == kb.KS_OK
    if op == "fc":
        x8 = rng.integers(-128, 128, size=(3, cols)).astype(np.int8)
        xf = rng.normal(size=(3, cols)).astype(np.float32)
    else:
        x8 = rng.integers(-128, 128, size=(2, 5, 4, C)).astype(np.int8)
        xf = rng.normal(size=(2, 5, 4, C)).astype(np.float32)
    for k in range(L):
        for nested, x, full, pre in ((nested8, x8, full_q, pre_q), (nestedf, xf, full_p, pre_p)):
            if op == "fc":
                s_full, y_full = kb.fully_connected(lib, nested, k, full, x)
                s_pre, y_pre = kb.fully_connected(lib, nested, k, pre, x)
            else:
                shape = (2, 5, 4, rows)
                s_full, y_full, _ = kb.conv(lib, op, geom, nested, k, full, x, shape)
                s_pre, y_pre, _ = kb.conv(lib, op, geom, nested, k, pre, x, shape)
            assert s_full == s_pre == kb.KS_OK
            np.testing.assert_array_equal(y_pre, y_full, err_msg=f"{op} {x.dtype} level {k}")
    # A prefix layout on a sparse matrix is refused by every kernel.
    csr, _, _ = _sample("nested_csr", rows=rows, cols=cols, L=L)
    q = kb.QuantParams(9, -4, -120, 110, mult.reshape(-1), shift.reshape(-1), layout=kb.KS_TABLES_PREFIX)
    status, _ = kb.fully_connected(lib, csr, 0, q, np.zeros((1, cols), np.int8))
    assert status == kb.KS_ERR_ARG


# ---------------------------------------------------------------------------
# Numpy reference for geometry Keras cannot build (stride with dilation,
# arbitrary explicit padding, batches) - same semantics as TFLM reference ops.
# ---------------------------------------------------------------------------


def _ref_conv(x, Wk, geom, op, out_shape, input_offset=0):
    """Dense masked matrix Wk in format column order; returns float64 acc."""
    n, H, Wd, C = x.shape
    _, OH, OW, rows = out_shape
    acc = np.zeros(out_shape, np.float64)
    xs = x.astype(np.float64) + input_offset
    for oy in range(OH):
        for ox in range(OW):
            for ky in range(geom.kernel_h):
                iy = oy * geom.stride_h - geom.pad_h + ky * geom.dilation_h
                if not 0 <= iy < H:
                    continue
                for kx in range(geom.kernel_w):
                    ix = ox * geom.stride_w - geom.pad_w + kx * geom.dilation_w
                    if not 0 <= ix < Wd:
                        continue
                    t = ky * geom.kernel_w + kx
                    if op == "conv":
                        wt = Wk[:, t * C : (t + 1) * C]  # [rows][C]
                        acc[:, oy, ox, :] += xs[:, iy, ix, :] @ wt.T
                    else:
                        m = geom.depth_multiplier
                        acc[:, oy, ox, :] += np.repeat(xs[:, iy, ix, :], m, axis=1) * Wk[:, t][None, :]
    return acc


GEOMS = [
    # kh, kw, sh, sw, dh, dw, ph, pw
    (3, 3, 2, 2, 2, 2, 2, 2),
    (3, 2, 3, 1, 1, 2, 0, 1),
    (2, 3, 2, 3, 3, 2, 3, 0),
    (1, 1, 2, 2, 1, 1, 1, 1),  # 1x1 window with padding: border pixels see nothing
    (3, 3, 1, 1, 1, 1, 4, 4),  # padding wider than the kernel
]


@pytest.mark.parametrize("op", ["conv", "depthwise_conv"])
@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
@pytest.mark.parametrize("gi", range(len(GEOMS)))
def test_geometry_against_numpy(lib, op, fmt, gi):
    kh, kw, sh, sw, dh, dw, ph, pw = GEOMS[gi]
    rng = np.random.default_rng(100 + gi)
    n, H, Wd, C = 2, 9, 8, 3
    m = 2 if op == "depthwise_conv" else 0
    rows = C * m if m else 5
    cols = kh * kw * (1 if m else C)
    OH = (H + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    OW = (Wd + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    out_shape = (n, OH, OW, rows)
    geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw, depth_multiplier=m)
    L = 3
    x8 = rng.integers(-128, 128, size=(n, H, Wd, C)).astype(np.int8)
    xf = rng.uniform(-1, 1, size=(n, H, Wd, C)).astype(np.float32)
    W8 = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8)
    Wf = rng.normal(size=(rows, cols)).astype(np.float32)
    in_ch = C
    nested8, fl = nested_masks.make_nested(fmt, W8, L, rng, in_channels=in_ch, depth_multiplier=m)
    if fmt == "structured":
        nestedf = kb.encode_structured(Wf, nested8.out_width, nested8.in_width, in_ch, m)
    elif fmt == "nested_block":
        bfl = fl[:, ::2]
        nestedf = kb.encode_nested_block(Wf, bfl, L)
    elif fmt == "row":
        nestedf = kb.encode_row(Wf, fl, L)
    else:
        nestedf = kb.encode_nested_csr(Wf, fl, L)
    in_off, out_off = 37, -5
    # Negative multipliers carry negative per-level BatchNorm scales (format §5.2).
    sign = rng.choice([-1, 1], size=(L, rows))
    mult = (sign * rng.integers(2**30, 2**31, size=(L, rows))).astype(np.int32)
    shift = rng.integers(-12, -7, size=(L, rows)).astype(np.int32)
    bias = rng.integers(-500, 500, size=(L, rows)).astype(np.int32)
    q = kb.QuantParams(in_off, out_off, -100, 120, mult, shift, bias)
    p = kb.FloatParams(-1.5, 2.5, scale=rng.uniform(0.5, 2, (L, rows)), bias=rng.normal(size=(L, rows)))
    for k in range(L):
        mask = fl <= k
        acc = _ref_conv(x8, np.where(mask, W8, 0), geom, op, out_shape, in_off).astype(np.int64)
        exp = np.empty(out_shape, np.int64)
        for o in range(rows):
            v = acc[..., o] + bias[k, o]
            m_ko = int(mult[k, o])
            mq = [tflm_mbqm(int(a) if m_ko > 0 else -int(a), abs(m_ko), int(shift[k, o])) for a in v.ravel()]
            exp[..., o] = np.array(mq).reshape(v.shape)
        exp = np.clip(exp + out_off, -100, 120)
        status, y, _ = kb.conv(lib, op, geom, nested8, k, q, x8, out_shape)
        assert status == kb.KS_OK
        refacc = _ref_conv(xf, np.where(mask, Wf, 0), geom, op, out_shape)
        expf = np.clip(p.scale[k] * refacc + p.bias[k], -1.5, 2.5)
        statusf, yf, _ = kb.conv(lib, op, geom, nestedf, k, p, xf, out_shape)
        assert statusf == kb.KS_OK
        if fmt == "structured":
            ow = int(nested8.out_width[k])
            exp[..., ow:] = out_off
            expf[..., ow:] = 0.0
        np.testing.assert_array_equal(y, exp.astype(np.int8), err_msg=f"level {k}")
        np.testing.assert_allclose(yf, expf, rtol=1e-5, atol=1e-5, err_msg=f"level {k}")


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
@pytest.mark.parametrize("act", [(-128, 127), (-90, 100)])
def test_depthwise_requant_extremes(lib, fmt, act):
    """Depthwise folds the multiplier's sign and left shift into its weights
    and rounds with a saturating add; check both against TFLM on the whole
    parameter range: every shift, small and negative multipliers, biases
    near the int32 limits (accumulators that wrap and high multiplies that
    saturate)."""
    rng = np.random.default_rng(7)
    kh, kw = 3, 3
    n, H, Wd, C, m = 1, 5, 6, 4, 2
    rows = C * m
    geom = kb.ConvGeometry(kh, kw, 1, 1, 1, 1, 1, 1, depth_multiplier=m)
    out_shape = (n, H, Wd, rows)
    W8 = rng.integers(-127, 128, size=(rows, kh * kw)).astype(np.int8)
    L = 3
    nested8, fl = nested_masks.make_nested(fmt, W8, L, rng, in_channels=C, depth_multiplier=m)
    lo, hi = act
    for trial in range(12):
        x8 = rng.integers(-128, 128, size=(n, H, Wd, C)).astype(np.int8)
        in_off = int(rng.choice([-127, 0, 128, int(rng.integers(-127, 129))]))
        out_off = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
        kinds = rng.integers(0, 3, size=(L, rows))
        mag = np.where(kinds == 0, rng.integers(2**30, 2**31, size=(L, rows)), rng.integers(1, 2**30, size=(L, rows)))
        mag = np.where(kinds == 2, 2**31 - 1, mag)
        mult = (rng.choice([-1, 1], size=(L, rows)) * mag.astype(np.int64)).astype(np.int32)
        shift = rng.integers(-31, 31, size=(L, rows)).astype(np.int32)
        if trial % 3 == 0:
            shift = rng.integers(-24, 1, size=(L, rows)).astype(np.int32)
        bias = rng.integers(-(2**31), 2**31, size=(L, rows), dtype=np.int64)
        bias[:, ::2] = rng.choice([2**31 - 1 - 2**20, -(2**31), 2**31 - 1], size=(L, (rows + 1) // 2))
        bias = bias.astype(np.int32)
        q = kb.QuantParams(in_off, out_off, lo, hi, mult, shift, bias)
        for k in range(L):
            mask = fl <= k
            acc = _ref_conv(x8, np.where(mask, W8, 0), geom, "depthwise_conv", out_shape, in_off).astype(np.int64)
            exp = np.empty(out_shape, np.int64)
            for o in range(rows):
                m_ko = int(mult[k, o])
                v = [_wrap32(int(a) + int(bias[k, o])) for a in acc[..., o].ravel()]
                mq = [tflm_mbqm(a if m_ko > 0 else _wrap32(-a), abs(m_ko), int(shift[k, o])) for a in v]
                # TFLM adds the output offset in int32 (it wraps next to
                # INT32_MIN, so the kernels must too).
                exp[..., o] = np.array([_wrap32(r + out_off) for r in mq]).reshape(acc.shape[:-1])
            exp = np.clip(exp, lo, hi)
            if fmt == "structured":
                exp[..., int(nested8.out_width[k]) :] = out_off
            status, y, _ = kb.conv(lib, "depthwise_conv", geom, nested8, k, q, x8, out_shape)
            assert status == kb.KS_OK
            np.testing.assert_array_equal(y, exp.astype(np.int8), err_msg=f"trial {trial} level {k}")


def test_kernels_refuse_bad_arguments(lib):
    nested, W, _ = _sample("nested_csr", rows=4, cols=2 * 2 * 3)
    geom = kb.ConvGeometry(2, 2)
    q = kb.QuantParams(0, 0, -128, 127, np.full(4, 1 << 30, np.int32), np.full(4, -1, np.int32))
    x = np.zeros((1, 4, 4, 3), np.int8)
    assert kb.conv(lib, "conv", geom, nested, 0, q, x, (1, 3, 3, 4))[0] == kb.KS_OK
    # output channels disagree with the matrix
    assert kb.conv(lib, "conv", geom, nested, 0, q, x, (1, 3, 3, 5))[0] == kb.KS_ERR_ARG
    # input channels disagree with the columns
    assert kb.conv(lib, "conv", geom, nested, 0, q, np.zeros((1, 4, 4, 2), np.int8), (1, 3, 3, 4))[0] == 1
    # float input against an int8 matrix
    pf = kb.FloatParams(-1, 1)
    assert kb.conv(lib, "conv", geom, nested, 0, pf, x.astype(np.float32), (1, 3, 3, 4))[0] == kb.KS_ERR_ARG
    bad = kb.ConvGeometry(2, 2, stride_h=0)
    assert kb.conv(lib, "conv", bad, nested, 0, q, x, (1, 3, 3, 4))[0] == kb.KS_ERR_ARG
    # conv scratch is required when the library asks for it
    cp, m, p = geom.struct(), nested.struct(), q.struct()
    din, dout = kb._dims(x.shape), kb._dims((1, 3, 3, 4))
    y = np.zeros((1, 3, 3, 4), np.int8)
    st = lib.ks_conv_s8(ctypes.byref(cp), ctypes.byref(m), 0, ctypes.byref(p), ctypes.byref(din), x.ctypes.data,
                        ctypes.byref(dout), y.ctypes.data, None)  # fmt: skip
    assert st == kb.KS_ERR_ARG
    # Level errors win over nothing else but NULL/shape errors, for every op.
    for lvl in (-1, nested.num_levels, 2**31 - 1):
        assert kb.conv(lib, "conv", geom, nested, lvl, q, x, (1, 3, 3, 4))[0] == kb.KS_ERR_LEVEL
        assert kb.fully_connected(lib, nested, lvl, q, np.zeros((1, 12), np.int8))[0] == kb.KS_ERR_LEVEL


def _scratch_touched(lib, geom, nested, level, params, x, out_shape) -> tuple[int, int]:
    """(bytes the library asks for, one past the highest scratch byte the call wrote)."""
    cp, m, p = geom.struct(), nested.struct(), params.struct()
    din, dout = kb._dims(x.shape), kb._dims(out_shape)
    size = lib.ks_conv_s8_get_buffer_size(ctypes.byref(cp), ctypes.byref(m), ctypes.byref(din))
    touched = 0
    for fill in (0xA5, 0x5A):  # a byte the kernel writes equals at most one of the two fills
        scratch = np.full(size + 64, fill, np.uint8)
        y = np.zeros(out_shape, np.int8)
        status = lib.ks_conv_s8(ctypes.byref(cp), ctypes.byref(m), level, ctypes.byref(p), ctypes.byref(din),
                                x.ctypes.data, ctypes.byref(dout), y.ctypes.data, scratch.ctypes.data)  # fmt: skip
        assert status == kb.KS_OK
        written = np.flatnonzero(scratch != fill)
        touched = max(touched, int(written[-1]) + 1 if written.size else 0)
    return size, touched


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
@pytest.mark.parametrize(("kh", "kw", "stride", "pad"), [(1, 1, 1, 0), (2, 2, 1, 0), (3, 3, 1, 1), (3, 3, 2, 1)])
def test_scratch_size_is_what_the_kernel_uses(lib, fmt, kh, kw, stride, pad):
    """The size the library asks for covers every byte the kernel writes at every level, and is not
    padded far past it: measured by filling the buffer, not by repeating the size formula."""
    cin, rows = 32, 8  # rows dense enough at the top level for the four-pixel path
    rng = np.random.default_rng(kh * 10 + stride)
    W = rng.integers(-127, 128, size=(rows, kh * kw * cin)).astype(np.int8)
    nested, _ = nested_masks.make_nested(fmt, W, 3, rng, in_channels=cin)
    geom = kb.ConvGeometry(kh, kw, stride, stride, pad_h=pad, pad_w=pad)
    h = 7
    out = (h + 2 * pad - kh) // stride + 1
    x = rng.integers(-128, 128, size=(1, h, h, cin)).astype(np.int8)
    q = kb.QuantParams(5, -3, -128, 127, np.full(rows, 1 << 30, np.int32), np.full(rows, -8, np.int32),
                       rng.integers(-500, 500, rows).astype(np.int32))  # fmt: skip
    sizes, used = set(), 0
    for level in range(3):
        size, touched = _scratch_touched(lib, geom, nested, level, q, x, (1, out, out, rows))
        assert touched <= size, f"level {level} wrote {touched} bytes of a {size}-byte scratch"
        sizes.add(size)
        used = max(used, touched)
    assert len(sizes) == 1  # the size does not depend on the level: Prepare asks once
    (size,) = sizes
    if used == 0:
        # Only a stride-1 1x1 layer may run without scratch: rows under ~24 entries take the
        # row-outer loop; the size still covers the four-pixel path denser rows would take.
        assert (kh, kw, stride, pad) == (1, 1, 1, 0)
        return
    # Alignment, the two paths a layer's levels may take and per-row tables
    # written only for active rows leave some slack, never most of it.
    assert size <= 2 * used + 64, f"asks for {size} bytes, uses {used}"


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
def test_cortex_m_build_is_warning_free(tmp_path, cpu):
    res = subprocess.run(
        ["make", "-s", "-C", str(kb.TFLM_OPS_DIR), cpu, f"ARM_BUILD_DIR={tmp_path}"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "warning" not in res.stderr.lower()
    assert (tmp_path / "libks_ops.a").exists()


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
def test_fc_never_reads_past_the_input_row(lib, fmt):
    """Odd R: the half-empty last block must not read column R.  A NaN right
    after the input row would poison the output if it were read (0 * NaN)."""
    rows, cols = 5, 13
    rng = np.random.default_rng(3)
    W = rng.normal(size=(rows, cols)).astype(np.float32)
    nested, fl = nested_masks.make_nested(fmt, W, 2, rng, in_channels=cols)
    buf = np.full(cols + 1, np.nan, np.float32)
    buf[:cols] = rng.normal(size=cols)
    x = buf[:cols][None, :]  # a view: the NaN sits right after the row
    p = kb.FloatParams(-1e30, 1e30)
    y = np.zeros((1, rows), np.float32)
    m, ps = nested.struct(), p.struct()
    status = lib.ks_fully_connected_f32(ctypes.byref(m), 1, ctypes.byref(ps), 1, x.ctypes.data, y.ctypes.data)
    assert status == kb.KS_OK
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y[0], np.where(fl <= 1, W, 0) @ buf[:cols], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row", "structured"])
def test_validate_array_lengths(lib, fmt):
    """A flatbuffer tensor of the wrong length is refused before it is read."""
    nested, _, _ = _sample(fmt)
    field = "num_ptr" if fmt.startswith("nested") else "num_table"
    for delta in (-1, 1):
        m = nested.struct()
        setattr(m, field, getattr(m, field) + delta)
        assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT
    m = nested.struct()
    if fmt == "structured":
        m.num_values += 1  # value tensor longer than rows x cols
    else:
        m.num_indices += 1  # index tensor longer than the pointers / counts say
    assert lib.ks_validate_matrix(ctypes.byref(m)) == kb.KS_ERR_FORMAT
