# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Dense int8 kernels (ks_dense.h, the densest level of every KS_* operator)
against a numpy transcription of TFLM's reference_integer_ops and, for a few
layers, against the tflite-micro wheel's own reference kernels."""

from __future__ import annotations

import ctypes
import os

import ks_dense_binding as kd
import numpy as np
import pytest

from keras_subnets.firmware import core_binding as kb

SINGLE = os.environ.get("KS_SINGLE_ROUNDING", "0") == "1"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@pytest.fixture(scope="module")
def dlib(lib):
    return kd.setup(lib)


def _quant(rng: np.random.Generator, rows: int, cols: int, extreme: bool = False) -> kd.DenseQuant:
    """Random per-channel tables.  The multiplier/shift pair scales a typical
    accumulator (~sqrt(cols)*128*64) into the int8 range, so outputs are not
    all clamped; `extreme` draws offsets and activation bounds at their limits,
    any shift in [-31, 30], and biases near the int32 limits."""
    mult = rng.integers(1 << 30, (1 << 31) - 1, rows, dtype=np.int64)
    mult[rng.random(rows) < 0.3] *= -1  # negative per-level BatchNorm scales (§5.2)
    typical = max(np.sqrt(cols) * 128 * 64, 1.0)
    shift = np.full(rows, -int(np.ceil(np.log2(typical / 64))), np.int64) + rng.integers(-2, 3, rows)
    bias = rng.integers(-(1 << 16), 1 << 16, rows)
    if extreme:
        shift = rng.integers(-31, 31, rows)
        mult[rng.random(rows) < 0.2] = rng.integers(-(2**31) + 1, 2**31, int(np.sum(rng.random(rows) < 0.2)) or 1)[0]
        mult[0] = 0
        bias[rng.random(rows) < 0.3] = INT32_MAX - rng.integers(0, 1000)
        bias[rng.random(rows) < 0.3] = INT32_MIN + rng.integers(0, 1000)
        in_off = int(rng.choice([-127, 128, 0, -1]))
        out_off = int(rng.choice([-128, 127, 0]))
        lo, hi = sorted(int(v) for v in rng.integers(-128, 128, 2))
        act = (lo, hi) if rng.random() < 0.5 else (-128, 127)
    else:
        in_off = int(rng.integers(-127, 129))
        out_off = int(rng.integers(-128, 128))
        act = (-128, 127) if rng.random() < 0.6 else (out_off, 127)
    shift = np.clip(shift, -31, 30)
    return kd.DenseQuant(in_off, out_off, act[0], act[1], mult, shift, bias if rng.random() < 0.85 else None)


def _weights(rng, shape, extreme=False):
    if extreme and rng.random() < 0.5:
        return rng.choice(np.array([-128, 127], np.int8), size=shape)
    return rng.integers(-128, 128, size=shape).astype(np.int8)


@pytest.mark.parametrize("seed", range(40))
def test_fully_connected_matches_oracle(dlib, seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.choice([1, 2, 3, 5, 8, 17, 64]))
    cols = int(rng.choice([1, 2, 3, 4, 5, 7, 9, 16, 33, 100, 257]))
    batches = int(rng.integers(0, 5))
    extreme = seed % 4 == 3
    W = _weights(rng, (rows, cols), extreme)
    q = _quant(rng, rows, cols, extreme)
    assert dlib.ks_dense_validate_quant(ctypes.byref(kd.quant_struct(q)), rows) == kb.KS_OK
    x = rng.integers(-128, 128, size=(batches, cols)).astype(np.int8)
    status, y = kd.fully_connected(dlib, W, q, x)
    assert status == kb.KS_OK
    np.testing.assert_array_equal(y, kd.ref_fully_connected(W, q, x, SINGLE))


def _conv_case(rng, depthwise: bool):
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    dh, dw = (int(v) for v in rng.integers(1, 4, 2)) if rng.random() < 0.4 else (1, 1)
    ph = int(rng.integers(0, (kh - 1) * dh + 1))
    pw = int(rng.integers(0, (kw - 1) * dw + 1))
    n = int(rng.integers(1, 3))
    c = int(rng.choice([1, 2, 3, 4, 5, 8, 12, 17]))
    H = int(rng.integers((kh - 1) * dh + 1, (kh - 1) * dh + 8))
    Wd = int(rng.integers((kw - 1) * dw + 1, (kw - 1) * dw + 8))
    oh = (H + 2 * ph - ((kh - 1) * dh + 1)) // sh + 1
    ow = (Wd + 2 * pw - ((kw - 1) * dw + 1)) // sw + 1
    mult = int(rng.choice([1, 1, 2, 3])) if depthwise else 0
    geom = kb.ConvGeometry(kh, kw, sh, sw, dh, dw, ph, pw, depth_multiplier=mult)
    return geom, (n, H, Wd, c), (oh, ow)


@pytest.mark.parametrize("seed", range(40))
def test_conv_matches_oracle(dlib, seed):
    rng = np.random.default_rng(100 + seed)
    geom, in_shape, (oh, ow) = _conv_case(rng, depthwise=False)
    if seed % 5 == 0:  # 1x1 stride-1 unpadded: the matrix-product path
        geom = kb.ConvGeometry(1, 1)
        oh, ow = in_shape[1], in_shape[2]
    rows = int(rng.choice([1, 2, 3, 7, 16]))
    extreme = seed % 4 == 3
    W = _weights(rng, (rows, geom.kernel_h, geom.kernel_w, in_shape[3]), extreme)
    q = _quant(rng, rows, W[0].size, extreme)
    x = rng.integers(-128, 128, size=in_shape).astype(np.int8)
    out_shape = (in_shape[0], oh, ow, rows)
    status, y, _ = kd.conv(dlib, "conv", geom, W, q, x, out_shape)
    assert status == kb.KS_OK
    np.testing.assert_array_equal(y, kd.ref_conv(geom, W, q, x, out_shape, SINGLE))


@pytest.mark.parametrize("seed", range(40))
def test_depthwise_conv_matches_oracle(dlib, seed):
    rng = np.random.default_rng(200 + seed)
    geom, in_shape, (oh, ow) = _conv_case(rng, depthwise=True)
    oc = in_shape[3] * geom.depth_multiplier
    extreme = seed % 4 == 3
    W = _weights(rng, (geom.kernel_h, geom.kernel_w, oc), extreme)
    q = _quant(rng, oc, geom.kernel_h * geom.kernel_w, extreme)
    x = rng.integers(-128, 128, size=in_shape).astype(np.int8)
    out_shape = (in_shape[0], oh, ow, oc)
    status, y, _ = kd.conv(dlib, "depthwise_conv", geom, W, q, x, out_shape)
    assert status == kb.KS_OK
    np.testing.assert_array_equal(y, kd.ref_depthwise_conv(geom, W, q, x, out_shape, SINGLE))


@pytest.mark.parametrize("op", ["conv", "depthwise_conv"])
def test_output_beyond_the_image_is_padding(dlib, op):
    """Any output shape is memory-safe: windows past the image read padding."""
    rng = np.random.default_rng(7)
    geom = kb.ConvGeometry(1, 1, 2, 2, depth_multiplier=1 if op == "depthwise_conv" else 0)
    x = rng.integers(-128, 128, size=(1, 3, 3, 4)).astype(np.int8)
    oc = 4 if op == "depthwise_conv" else 5
    W = _weights(rng, (1, 1, oc) if op == "depthwise_conv" else (oc, 1, 1, 4))
    q = _quant(rng, oc, 4)
    out_shape = (1, 4, 5, oc)
    status, y, _ = kd.conv(dlib, op, geom, W, q, x, out_shape)
    assert status == kb.KS_OK
    ref = kd.ref_depthwise_conv if op == "depthwise_conv" else kd.ref_conv
    np.testing.assert_array_equal(y, ref(geom, W, q, x, out_shape, SINGLE))


def test_accumulator_wraps_like_int32(dlib):
    """Long all-extreme rows and a bias at the int32 limit overflow the sum;
    TFLM's int32 arithmetic wraps, and so must every path (SMLAD, C)."""
    rows, cols = 5, 70000
    W = np.full((rows, cols), -128, np.int8)
    W[1] = 127
    x = np.full((3, cols), 127, np.int8)
    q = kd.DenseQuant(128, 0, -128, 127, np.full(rows, 1 << 30), np.full(rows, -20), np.full(rows, INT32_MAX - 5))
    status, y = kd.fully_connected(dlib, W, q, x)
    assert status == kb.KS_OK
    np.testing.assert_array_equal(y, kd.ref_fully_connected(W, q, x, SINGLE))


def test_argument_errors(dlib):
    W = np.ones((3, 4), np.int8)
    x = np.ones((1, 4), np.int8)
    good = kd.DenseQuant(0, 0, -128, 127, np.full(3, 1 << 30), np.full(3, -3))
    assert kd.fully_connected(dlib, W, good, x)[0] == kb.KS_OK
    for bad in (
        kd.DenseQuant(129, 0, -128, 127, good.multiplier, good.shift),
        kd.DenseQuant(-128, 0, -128, 127, good.multiplier, good.shift),
        kd.DenseQuant(0, 128, -128, 127, good.multiplier, good.shift),
        kd.DenseQuant(0, 0, 5, 4, good.multiplier, good.shift),
    ):
        assert kd.fully_connected(dlib, W, bad, x)[0] == kb.KS_ERR_ARG
        assert dlib.ks_dense_validate_quant(ctypes.byref(kd.quant_struct(bad)), 3) == kb.KS_ERR_ARG
    for mult, shift in (([1, INT32_MIN, 1], [0, 0, 0]), ([1, 1, 1], [0, 31, 0]), ([1, 1, 1], [-32, 0, 0])):
        q = kd.DenseQuant(0, 0, -128, 127, np.array(mult), np.array(shift))
        assert dlib.ks_dense_validate_quant(ctypes.byref(kd.quant_struct(q)), 3) == kb.KS_ERR_ARG
    assert dlib.ks_dense_validate_quant(ctypes.byref(kd.quant_struct(good)), 3) == kb.KS_OK
    assert dlib.ks_dense_validate_quant(None, 3) == kb.KS_ERR_ARG
    qs = kd.quant_struct(good)
    assert dlib.ks_dense_fully_connected_s8(None, 3, 4, ctypes.byref(qs), 1, x.ctypes.data, x.ctypes.data, None) == 1
    assert (
        dlib.ks_dense_fully_connected_s8(W.ctypes.data, 3, 0, ctypes.byref(qs), 1, x.ctypes.data, x.ctypes.data, None)
        == kb.KS_ERR_ARG
    )
    geom = kb.ConvGeometry(3, 3, 1, 1, 1, 1, 1, 1)
    Wc = np.ones((3, 3, 3, 2), np.int8)
    xc = np.ones((1, 4, 4, 2), np.int8)
    assert kd.conv(dlib, "conv", geom, Wc, good, xc, (1, 4, 4, 3))[0] == kb.KS_OK
    # A scratch-needing conv without scratch, and mismatched depthwise channels.
    cp, din, dout = geom.struct(), kb._dims(xc.shape), kb._dims((1, 4, 4, 3))
    out = np.zeros((1, 4, 4, 3), np.int8)
    assert (
        dlib.ks_dense_conv_s8(
            ctypes.byref(cp),
            Wc.ctypes.data,
            ctypes.byref(qs),
            ctypes.byref(din),
            xc.ctypes.data,
            ctypes.byref(dout),
            out.ctypes.data,
            None,
        )
        == kb.KS_ERR_ARG
    )
    dgeom = kb.ConvGeometry(3, 3, depth_multiplier=2)
    assert kd.conv(dlib, "depthwise_conv", dgeom, np.ones((3, 3, 4), np.int8), good, xc, (1, 2, 2, 3))[0] == 1


# ---------------------------------------------------------------------------
# Against the tflite-micro wheel's reference kernels
# ---------------------------------------------------------------------------

WHEEL_CASES = [
    "fc_odd_relu",
    "fc_per_tensor",
    "conv_3x3_valid_s2",
    "conv_5x3_same_s2_relu",
    "conv_1x1",
    "conv_dil2_same",
    "conv_cin1",
    "dw_3x3_same",
    "dw_3x3_valid_s2_m2",
    "dw_dil2_same",
]


@pytest.mark.parametrize("case", WHEEL_CASES)
def test_bit_exact_with_tflm(dlib, case):
    pytest.importorskip("tflite_micro")
    import ks_ops_tflm_test as t

    layer = t._layer(case, int8=True)
    rng = np.random.default_rng(len(case))
    rows = layer.output_shape[-1]
    eff = layer.effective_scales()
    mult = np.zeros(rows, np.int32)
    shift = np.zeros(rows, np.int32)
    for o in range(rows):
        mult[o], shift[o] = kb.quantize_multiplier(dlib, eff[o])
    act_min, act_max = layer.act_range_int8()
    q = kd.DenseQuant(-layer.in_zp, layer.out_zp, act_min, act_max, mult, shift, np.array(layer.bias))
    x = rng.integers(-128, 128, size=layer.input_shape).astype(np.int8)
    expected = layer.run(x)
    if layer.kind == "fc":
        status, y = kd.fully_connected(dlib, layer.weights, q, x.reshape(-1, layer.weights.shape[1]))
        y = y.reshape(expected.shape)
    else:
        kh, kw = layer.kernel_hw()
        ph, pw = layer.padding()
        geom = kb.ConvGeometry(kh, kw, *layer.stride, *layer.dilation, ph, pw, depth_multiplier=layer.depth_multiplier)
        status, y, _ = kd.conv(
            dlib,
            layer.kind,
            geom,
            layer.weights.reshape(layer.weights.shape[-3:]) if layer.kind == "depthwise_conv" else layer.weights,
            q,
            x,
            layer.output_shape,
        )
    assert status == kb.KS_OK
    np.testing.assert_array_equal(y, expected)
