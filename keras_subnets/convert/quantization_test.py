# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""int8 arithmetic against exact rational arithmetic and a numpy model of TFLite's requantization."""

import math
from fractions import Fraction

import numpy as np
import pytest

from keras_subnets.convert import quantization


def _exact_multiplier(real: float) -> tuple[int, int]:
    """``real = m · 2^(shift − 31)`` with ``m`` in [2^30, 2^31], rounded half up, found with exact fractions."""
    exact = Fraction(real)
    shift = 0
    while exact * 2 ** (31 - shift) >= 2**31:
        shift += 1
    while exact * 2 ** (31 - shift) < 2**30:
        shift -= 1
    scaled = exact * 2 ** (31 - shift)
    m = math.floor(scaled + Fraction(1, 2))
    if m == 2**31:
        m, shift = 2**30, shift + 1
    return m, shift


def _requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier (gemmlowp's doubling high multiply, rounding right shift)."""
    out = []
    for a, m, s in zip(acc.tolist(), multiplier.tolist(), shift.tolist(), strict=True):
        a = a * (1 << s) if s > 0 else a
        prod = a * m
        nudge = (1 << 30) if prod >= 0 else 1 - (1 << 30)
        high = (prod + nudge) // (1 << 31) if prod + nudge >= 0 else -((-(prod + nudge)) // (1 << 31))
        right = -s if s < 0 else 0
        if right:
            mask = (1 << right) - 1
            remainder = high & mask
            threshold = (mask >> 1) + (1 if high < 0 else 0)
            high = (high >> right) + (1 if remainder > threshold else 0)
        out.append(high)
    return np.asarray(out, np.int64)


@pytest.mark.parametrize("real", [1.0, 0.5, 0.75, 1e-3, 0.1234567, 3.0, 2.0**-20, 1 - 2.0**-33, 0.3 * 2.0**-10])
def test_quantize_multiplier_is_the_exact_rounding(real):
    assert quantization.quantize_multiplier(real) == _exact_multiplier(real)


def test_quantize_multiplier_zero_tiny_and_refused():
    assert quantization.quantize_multiplier(0.0) == (0, 0)
    assert quantization.quantize_multiplier(2.0**-40) == (0, 0)  # below TFLM's shift range: flushed
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite and >= 0"):
            quantization.quantize_multiplier(bad)


def test_quantize_rows_reconstructs_each_row_within_half_a_step():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(5, 17)).astype(np.float32) * np.array([1, 1e-3, 10, 0, 1], np.float32)[:, None]
    q, scale = quantization.quantize_rows(rows)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    for r in range(5):
        peak = np.abs(rows[r]).max()
        if peak == 0:
            assert scale[r] == 1 and not q[r].any()
            continue
        assert scale[r] == pytest.approx(peak / 127, rel=1e-6)
        assert np.abs(q[r]).max() == 127
        assert np.all(np.abs(q[r] * scale[r] - rows[r]) <= scale[r] / 2 * (1 + 1e-5))


def test_level_tables_reproduce_the_float_affine_through_tflite_requantization():
    """The tables of a level, run as TFLite runs a conv, give ``a·(W x) + c`` within an output step or two."""
    rng = np.random.default_rng(1)
    units, depth = 12, 40
    weights = rng.normal(size=(units, depth)).astype(np.float32)
    a = rng.uniform(0.3, 2.0, size=units) * np.where(np.arange(units) % 3 == 0, -1, 1)  # negative scales too
    c = rng.normal(size=units)
    input_scale, output_scale = 0.02, 0.05
    q, weight_scale = quantization.quantize_rows(weights)
    bias, multiplier, shift, filter_scale = quantization.level_int8_tables(a, c, weight_scale, input_scale,
                                                                         output_scale)
    np.testing.assert_allclose(filter_scale, np.abs(a) * weight_scale, rtol=1e-6)
    for _ in range(4):
        x_q = rng.integers(-60, 60, size=depth)
        expected = (a * (q.astype(np.float64) * weight_scale[:, None] @ (x_q * input_scale)) + c) / output_scale
        acc = q.astype(np.int64) @ x_q + bias
        # The kernel negates the accumulator of a negative multiplier and applies -multiplier.
        sign = np.where(multiplier < 0, -1, 1)
        got = _requantize(sign * acc, np.abs(multiplier), shift)
        np.testing.assert_allclose(got, expected, atol=1.0)


def test_activation_bounds_round_half_away_from_zero():
    # 6 / 12 = 0.5 and -1 / 2 = -0.5: TfLiteRound gives 1 and -1 (Python's round gives 0 and 0).
    assert quantization.activation_bounds("RELU6", 12.0, 0) == (0, 1)
    assert quantization.activation_bounds("RELU_N1_TO_1", 2.0, -10) == (-11, -9)
    assert quantization.activation_bounds("RELU", 0.1, -128) == (-128, 127)
    assert quantization.activation_bounds("RELU", 0.1, 5) == (5, 127)
    assert quantization.activation_bounds("NONE", 0.1, 5) == (-128, 127)
    assert quantization.activation_bounds("RELU6", 0.01, 0) == (0, 127)  # 600 clamps to int8
    with pytest.raises(ValueError, match="TANH cannot be expressed"):
        quantization.activation_bounds("TANH", 0.1, 0)
    assert quantization.float_activation_bounds("RELU6") == (0.0, 6.0)
    with pytest.raises(ValueError, match="TANH"):
        quantization.float_activation_bounds("TANH")
