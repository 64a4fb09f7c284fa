# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""tflm_ops kernels against TFLM's own reference kernels.

For every case a single-layer Keras model is converted once to int8 and once
to float32.  For every format and level, the level's masked weights (and, to
exercise the per-level tables, level-specific bias and per-channel scales)
are written into the flatbuffer and run by the tflite-micro interpreter; the
same weights, encoded in the format, go through our kernel.
int8 must match bit for bit; float32 to 1e-5 of the output's magnitude.
"""

from __future__ import annotations

import functools
import zlib

import nested_masks
import numpy as np
import pytest
import tflm_oracle as to

from keras_subnets.firmware import core_binding as kb

FORMATS = ["nested_csr", "nested_block", "row", "structured"]

# id -> LayerSpec.  Shapes are chosen to cross the index-width boundaries
# (R <= 256 / > 256 columns, <= 256 / > 256 blocks), odd and even R, every
# padding / stride / dilation / depth-multiplier combination Keras accepts,
# and asymmetric input ranges (input zero points far from 0).
CASES = {
    "fc_small": to.LayerSpec("fc", (1, 20), units=7, seed=1),
    "fc_odd_relu": to.LayerSpec("fc", (3, 33), units=9, activation="relu", input_range=(0.0, 6.0), seed=2),
    "fc_u16": to.LayerSpec("fc", (2, 300), units=5, input_range=(-3.0, 1.0), seed=3),
    "fc_u16_blocks": to.LayerSpec("fc", (1, 601), units=4, seed=4),
    "fc_one_input": to.LayerSpec("fc", (2, 1), units=3, seed=5),
    "fc_per_tensor": to.LayerSpec("fc", (2, 40), units=6, per_tensor=True, input_range=(-2.0, 0.5), seed=6),
    "conv_3x3_same": to.LayerSpec("conv", (1, 7, 6, 3), units=5, kernel=(3, 3), padding="same", seed=10),
    "conv_3x3_valid_s2": to.LayerSpec(
        "conv", (2, 9, 8, 4), units=6, kernel=(3, 3), strides=(2, 2), input_range=(0.0, 2.0), seed=11
    ),
    "conv_5x3_same_s2_relu": to.LayerSpec(
        "conv",
        (1, 8, 9, 2),
        units=4,
        kernel=(5, 3),
        strides=(2, 1),
        padding="same",
        activation="relu",
        seed=12,
    ),
    "conv_1x1": to.LayerSpec("conv", (1, 5, 4, 16), units=8, kernel=(1, 1), input_range=(-0.5, 2.0), seed=13),
    "conv_1x1_s2": to.LayerSpec("conv", (2, 5, 5, 7), units=3, kernel=(1, 1), strides=(2, 2), seed=14),
    "conv_dil2_same": to.LayerSpec(
        "conv", (1, 9, 9, 3), units=4, kernel=(3, 3), dilation=(2, 2), padding="same", seed=15
    ),
    "conv_dil23_valid": to.LayerSpec("conv", (1, 10, 11, 2), units=3, kernel=(2, 3), dilation=(2, 3), seed=16),
    "conv_cin1": to.LayerSpec("conv", (1, 6, 6, 1), units=4, kernel=(3, 3), padding="same", seed=17),
    "conv_u16": to.LayerSpec("conv", (1, 5, 5, 32), units=6, kernel=(3, 3), padding="same", seed=18),
    "conv_u16_blocks": to.LayerSpec("conv", (1, 4, 4, 65), units=3, kernel=(3, 3), padding="same", seed=19),
    "conv_even_stride_same": to.LayerSpec(
        "conv", (1, 8, 8, 3), units=4, kernel=(4, 4), strides=(2, 2), padding="same", seed=20
    ),
    "dw_3x3_same": to.LayerSpec("depthwise_conv", (1, 7, 6, 4), kernel=(3, 3), padding="same", seed=30),
    "dw_3x3_valid_s2_m2": to.LayerSpec(
        "depthwise_conv", (2, 9, 7, 3), kernel=(3, 3), strides=(2, 2), depth_multiplier=2, seed=31
    ),
    "dw_5x5_same_m3_relu": to.LayerSpec(
        "depthwise_conv",
        (1, 8, 8, 2),
        kernel=(5, 5),
        padding="same",
        depth_multiplier=3,
        activation="relu",
        input_range=(0.0, 4.0),
        seed=32,
    ),
    "dw_dil2_same": to.LayerSpec(
        "depthwise_conv", (1, 9, 8, 5), kernel=(3, 3), dilation=(2, 2), padding="same", seed=33
    ),
    "dw_2x2_s2_same": to.LayerSpec(
        "depthwise_conv", (1, 7, 7, 3), kernel=(2, 2), strides=(2, 2), padding="same", seed=34
    ),
    "dw_1x1_m2": to.LayerSpec("depthwise_conv", (1, 4, 5, 3), kernel=(1, 1), depth_multiplier=2, seed=35),
}


@functools.cache
def _converted(case: str, int8: bool) -> bytes:
    return bytes(to.convert(CASES[case], int8))


def _layer(case: str, int8: bool) -> to.TfliteLayer:
    return to.TfliteLayer(bytearray(_converted(case, int8)))


def _in_channels(layer: to.TfliteLayer, W: np.ndarray) -> tuple[int, int]:
    if layer.kind == "fc":
        return W.shape[1], 0
    if layer.kind == "conv":
        return layer.input_shape[-1], 0
    return layer.input_shape[-1], layer.depth_multiplier


def _call_kernel(lib, layer, nested, level, params, x):
    if layer.kind == "fc":
        return kb.fully_connected(lib, nested, level, params, x)
    kh, kw = layer.kernel_hw()
    ph, pw = layer.padding()
    geom = kb.ConvGeometry(kh, kw, *layer.stride, *layer.dilation, ph, pw, depth_multiplier=layer.depth_multiplier)
    status, y, _ = kb.conv(lib, layer.kind, geom, nested, level, params, x, layer.output_shape)
    return status, y


def _levels_to_check(num_levels: int) -> list[int]:
    return sorted({0, num_levels // 2, num_levels - 1})


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_int8_bit_exact_with_tflm(lib, case, fmt):
    layer = _layer(case, int8=True)
    rng = np.random.default_rng(zlib.crc32(f"{case}-{fmt}".encode()))
    W = layer.matrix()
    rows = W.shape[0]
    in_ch, dm = _in_channels(layer, W)
    L = int(rng.integers(2, 5))
    nested, fl = nested_masks.make_nested(fmt, W, L, rng, in_channels=in_ch, depth_multiplier=dm)
    if fmt == "nested_block" and W.shape[1] % 2:
        # Format v4: an int8 block's values are a pair of D's row, so odd widths are refused; the converter
        # writes such a layer as nested_csr with the same (block-shaped) non-zeros, tested here.
        assert kb.validate(lib, nested) == kb.KS_ERR_FORMAT
        nested = kb.encode_nested_csr(W, fl, L)
    assert kb.validate(lib, nested) == kb.KS_OK

    base_scales = np.array(layer.w_scales, copy=True)
    assert (base_scales.size == 1) == CASES[case].per_tensor
    base_bias = np.array(layer.bias, copy=True)
    # Per-level tables: level k gets its own per-channel scale and bias, the
    # way a per-level BatchNorm fold would produce them.
    scale_factor = rng.uniform(0.6, 1.6, size=(L, base_scales.size)).astype(np.float32)
    scale_factor[-1] = 1.0
    bias_k = (base_bias[None, :] + rng.integers(-2000, 2000, size=(L, rows))).astype(np.int32)
    mult = np.zeros((L, rows), np.int32)
    shift = np.zeros((L, rows), np.int32)
    x = rng.integers(-128, 128, size=layer.input_shape).astype(np.int8)
    act_min, act_max = layer.act_range_int8()

    expected, scales_k = {}, {}
    for k in range(L):
        layer.w_scales[...] = base_scales * scale_factor[k]
        layer.bias[...] = bias_k[k]
        layer.set_matrix(np.where(fl <= k, W, 0).astype(np.int8))
        eff = layer.effective_scales()
        for o in range(rows):
            mult[k, o], shift[k, o] = kb.quantize_multiplier(lib, eff[o])
        scales_k[k] = eff
        expected[k] = layer.run(x)

    q = kb.QuantParams(-layer.in_zp, layer.out_zp, act_min, act_max, mult, shift, bias_k)
    assert lib.ks_validate_quant_params(q.struct(), L, rows) == kb.KS_OK
    for k in range(L):
        status, y = _call_kernel(lib, layer, nested, k, q, x)
        assert status == kb.KS_OK
        if fmt == "structured":
            ow = int(nested.out_width[k])
            np.testing.assert_array_equal(y[..., :ow], expected[k][..., :ow], err_msg=f"level {k}")
            assert np.all(y[..., ow:] == layer.out_zp), f"level {k}: inactive outputs not zero point"
        else:
            np.testing.assert_array_equal(y, expected[k], err_msg=f"level {k}")
    # The level is run-time data: out of range must be refused, not read.
    for bad in (-1, L, 1 << 30):
        assert _call_kernel(lib, layer, nested, bad, q, x)[0] == kb.KS_ERR_LEVEL


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_float32_matches_tflm(lib, case, fmt):
    layer = _layer(case, int8=False)
    rng = np.random.default_rng(zlib.crc32(f"{case}-{fmt}-f".encode()))
    W = layer.matrix()
    rows = W.shape[0]
    in_ch, dm = _in_channels(layer, W)
    L = int(rng.integers(2, 5))
    nested, fl = nested_masks.make_nested(fmt, W, L, rng, in_channels=in_ch, depth_multiplier=dm)
    assert kb.validate(lib, nested) == kb.KS_OK

    scale = rng.uniform(0.5, 2.0, size=(L, rows)).astype(np.float32)
    bias = rng.normal(size=(L, rows)).astype(np.float32)
    p = kb.FloatParams(*layer.act_range_f32(), scale=scale, bias=bias)
    x = rng.uniform(-2, 2, size=layer.input_shape).astype(np.float32)
    for k in _levels_to_check(L):
        # scale*acc + bias == a layer whose row o is scaled by scale[k][o].
        layer.set_matrix(np.where(fl <= k, W, 0) * scale[k][:, None])
        layer.bias[...] = bias[k]
        ref = layer.run(x)
        status, y = _call_kernel(lib, layer, nested, k, p, x)
        assert status == kb.KS_OK
        tol = 1e-5 * max(1.0, float(np.max(np.abs(ref))))
        if fmt == "structured":
            ow = int(nested.out_width[k])
            np.testing.assert_allclose(y[..., :ow], ref[..., :ow], rtol=1e-5, atol=tol)
            assert np.all(y[..., ow:] == 0.0)
        else:
            np.testing.assert_allclose(y, ref, rtol=1e-5, atol=tol, err_msg=f"level {k}")
    assert _call_kernel(lib, layer, nested, L, p, x)[0] == kb.KS_ERR_LEVEL


def test_shared_tables_and_no_bias(lib):
    """per_level = 0 tables and a NULL bias give the same as tiled tables."""
    layer = _layer("fc_small", int8=True)
    rng = np.random.default_rng(7)
    W = layer.matrix()
    nested, _ = nested_masks.make_nested("nested_csr", W, 3, rng, in_channels=W.shape[1])
    eff = layer.effective_scales()
    mult, shift = zip(*(kb.quantize_multiplier(lib, e) for e in eff), strict=True)
    mult, shift = np.array(mult, np.int32), np.array(shift, np.int32)
    x = rng.integers(-128, 128, size=layer.input_shape).astype(np.int8)
    shared = kb.QuantParams(-layer.in_zp, layer.out_zp, -128, 127, mult, shift, None)
    tiled = kb.QuantParams(
        -layer.in_zp, layer.out_zp, -128, 127, np.tile(mult, (3, 1)), np.tile(shift, (3, 1)), np.zeros((3, 7))
    )
    for k in range(3):
        s1, y1 = kb.fully_connected(lib, nested, k, shared, x)
        s2, y2 = kb.fully_connected(lib, nested, k, tiled, x)
        assert s1 == s2 == kb.KS_OK
        np.testing.assert_array_equal(y1, y2)
