# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`dense_image`'s numpy oracle (no image built) against a scalar transcription of TFLite's integer
arithmetic written here (gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT with
C's truncating division), naive loops for the layers, and TensorFlow's SAME / VALID convolution for
the geometry."""

import numpy as np
import pytest
import tensorflow as tf

from keras_subnets.firmware import dense_image as di

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _wrap(v):
    return (v + 2**31) % 2**32 - 2**31


def _srdhm(a, b):
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = 1 << 30 if ab >= 0 else 1 - (1 << 30)
    total = ab + nudge
    return int(total / 2**31) if abs(total) < 2**52 else (abs(total) >> 31) * (1 if total >= 0 else -1)


def _rdbpot(x, exponent):
    mask = (1 << exponent) - 1
    remainder, threshold = x & mask, (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def _requantize_one(acc, bias, m, s, q: di.DenseQuant, single_rounding=False):
    acc = _wrap(acc + bias)
    if m < 0:
        acc, m = _wrap(-acc), -m
    if single_rounding:
        total = 31 - s
        y = (acc * m + (1 << (total - 1))) >> total
    else:
        y = _rdbpot(_srdhm(_wrap(acc * (1 << max(s, 0))), m), max(-s, 0))
    return int(np.clip(_wrap(y + q.output_offset), q.act_min, q.act_max))


def _requantize(acc, q, single_rounding=False):
    acc = np.asarray(acc, np.int64)
    out = np.zeros(acc.shape, np.int8)
    for index in np.ndindex(acc.shape):
        o = index[-1]
        bias = 0 if q.bias is None else int(q.bias[o])
        out[index] = _requantize_one(int(acc[index]), bias, int(q.multiplier[o]), int(q.shift[o]), q, single_rounding)
    return out


@pytest.mark.parametrize("single_rounding", [False, True])
def test_requantize_matches_the_scalar_transcription(single_rounding):
    rng = np.random.default_rng(0)
    rows = 16
    q = di.DenseQuant(0, -5, -128, 127, rng.integers(1 << 30, (1 << 31) - 1, rows),
                      rng.integers(-12, 1, rows), rng.integers(-5000, 5000, rows))  # fmt: skip
    q.multiplier[::3] *= -1  # a negative multiplier negates the accumulator
    acc = rng.integers(-(1 << 20), 1 << 20, (64, rows))
    acc[1] = INT32_MAX  # wraps with the bias
    np.testing.assert_array_equal(di.requantize(acc, q, single_rounding), _requantize(acc, q, single_rounding))


def test_requantize_rounds_exact_halves_away_from_zero():
    # Multiplier 0.5 (2^30) and a right shift: every even accumulator is an exact product, and half of
    # them end in an exact half, the case the two rounding steps decide.
    shift = np.array([-1, -2, -3])
    q = di.DenseQuant(0, 0, -128, 127, np.full(3, 1 << 30), shift, None)
    acc = np.repeat(np.arange(-64, 65, 2)[:, None], 3, axis=1)
    np.testing.assert_array_equal(di.requantize(acc, q), _requantize(acc, q))
    assert di.requantize(np.array([[-6, -12, 20]]), q).tolist() == [[-2, -2, 1]]  # -1.5, -1.5, 1.25


def _layer(op, x_shape, y_shape, geometry, seed):
    return di.random_layer(op, op, x_shape, y_shape, geometry, np.random.default_rng(seed))


def test_fully_connected_is_the_offset_input_times_the_weights():
    layer = _layer("fc", (3, 20), (3, 7), None, 1)
    acc = np.zeros((3, 7), np.int64)
    for b in range(3):
        for o in range(7):
            acc[b, o] = sum((int(layer.x[b, c]) + layer.q.input_offset) * int(layer.weights[o, c]) for c in range(20))
    np.testing.assert_array_equal(di.reference(layer), _requantize(acc, layer.q))
    assert di.Call(layer, "ks_dense").macs == 20 * 7 * 3


def _naive_conv(layer, depthwise):
    g, x = layer.geometry, layer.x.astype(np.int64) + layer.q.input_offset
    n, h, w, c = x.shape
    _, oh, ow, oc = layer.y_shape
    acc = np.zeros(layer.y_shape, np.int64)
    for b, yy, xx, o in np.ndindex(n, oh, ow, oc):
        for ky, kx in np.ndindex(g.kernel_h, g.kernel_w):
            iy, ix = yy * g.stride_h - g.pad_h + ky * g.dilation_h, xx * g.stride_w - g.pad_w + kx * g.dilation_w
            if not (0 <= iy < h and 0 <= ix < w):
                continue  # padding: the input value -input_offset, contributing 0
            if depthwise:
                acc[b, yy, xx, o] += x[b, iy, ix, o // g.depth_multiplier] * int(layer.weights[ky, kx, o])
            else:
                acc[b, yy, xx, o] += int(np.dot(x[b, iy, ix], layer.weights[o, ky, kx].astype(np.int64)))
    return acc


def _tf_conv(layer, padding, depthwise):
    """The same accumulator by TensorFlow (float64 holds these integer sums exactly; its depthwise
    kernel takes equal strides, and dilation only with stride 1)."""
    g = layer.geometry
    x = tf.constant(layer.x.astype(np.float64) + layer.q.input_offset)
    strides, dilations = [1, g.stride_h, g.stride_w, 1], [g.dilation_h, g.dilation_w]
    if depthwise:
        c = layer.x.shape[-1]
        f = tf.constant(layer.weights.astype(np.float64).reshape(g.kernel_h, g.kernel_w, c, g.depth_multiplier))
        return tf.nn.depthwise_conv2d(x, f, strides, padding.upper(), dilations=dilations).numpy()
    f = tf.constant(np.transpose(layer.weights, (1, 2, 3, 0)).astype(np.float64))  # OHWI -> HWIO
    return tf.nn.conv2d(x, f, strides, padding.upper(), dilations=dilations).numpy()


@pytest.mark.parametrize("padding, kernel, stride, dilation", [("same", (3, 3), (2, 2), (1, 1)),
                                                               ("same", (3, 2), (1, 1), (2, 1)),
                                                               ("valid", (2, 3), (2, 2), (1, 1)),
                                                               ("valid", (3, 3), (1, 1), (1, 2))])  # fmt: skip
@pytest.mark.parametrize("depthwise", [False, True])
def test_convolutions_and_their_geometry_match_naive_loops_and_tensorflow(padding, kernel, stride, dilation,
                                                                          depthwise):
    multiplier = 2 if depthwise else 0
    g, (oh, ow) = di.same_geometry((7, 6), kernel, stride, dilation, padding, multiplier)
    out_c = 3 * 2 if depthwise else 5
    layer = _layer("depthwise_conv" if depthwise else "conv", (1, 7, 6, 3), (1, oh, ow, out_c), g, 2)
    acc = _naive_conv(layer, depthwise)
    np.testing.assert_array_equal(acc, _tf_conv(layer, padding, depthwise))  # shape and padding as TFLite's
    np.testing.assert_array_equal(di.reference(layer), _requantize(acc, layer.q))
    assert di.scratch_bytes([layer]) % 4 == 0


def test_random_quant_keeps_outputs_in_range():
    layer = _layer("fc", (8, 64), (8, 32), None, 3)
    y = di.reference(layer)
    assert np.mean((y == -128) | (y == 127)) < 0.5  # scaled into int8, not all clamped
    assert np.all(np.abs(layer.q.bias) + 255 * np.abs(layer.weights.astype(np.int64)).sum(axis=1) < 2**31)


def test_dense_source_needs_a_cmsis_nn_root_for_cmsis_nn():
    layer = _layer("fc", (1, 4), (1, 2), None, 4)
    with pytest.raises(ValueError, match="the 'cmsis_nn' kernel needs cmsis_nn_root"):
        di.dense_source([layer], ("ks_dense", "cmsis_nn"), di.Image(None, "m4"))
