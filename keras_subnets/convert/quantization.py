# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""int8 arithmetic shared with TFLite Micro: multipliers, weights, per-level tables."""

from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM's ``QuantizeMultiplier``: ``real ≈ multiplier · 2^(shift − 31)``.

    Same frexp, round-half-away-from-zero and flush-to-zero rules as TFLM
    (and ``ks_quantize_multiplier`` in ``tflm_ops``), so the converter, the
    kernels and TFLM's own reference kernels derive identical pairs.
    """
    if not real >= 0.0 or math.isinf(real):
        raise ValueError(f"a requantization multiplier must be finite and >= 0, got {real}")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.floor(q * (1 << 31) + 0.5))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def effective_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> float:
    """The per-channel real multiplier exactly as TFLM's conv Prepare computes it."""
    return float(np.float64(np.float32(input_scale)) * np.float64(np.float32(filter_scale))
                 / np.float64(np.float32(output_scale)))


def quantize_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 quantization (TFLite's per-channel weight scheme).

    Returns:
        ``(q, scale)``: int8 rows and the float32 scale of each row
        (``max |w| / 127``; 1 for an all-zero row).
    """
    peak = np.max(np.abs(rows), axis=1).astype(np.float32)
    scale = np.where(peak > 0, peak / np.float32(127.0), np.float32(1.0)).astype(np.float32)
    q = np.clip(np.round(rows / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def level_int8_tables(
    a: np.ndarray, c: np.ndarray, weight_scale: np.ndarray, input_scale: float, output_scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One level's int8 tables from its folded affine ``y = a·(W x) + c``.

    The integer weights are shared by all levels; the level's BatchNorm scale
    ``a`` moves into the requantization. A negative ``a`` is carried by a
    negative multiplier (the kernel negates the accumulator and uses
    ``-multiplier``), since the shared weights cannot change sign per level.

    Returns:
        ``(bias, multiplier, shift, filter_scale)`` per output unit; the
        float32 ``filter_scale = |a|·weight_scale`` is what a builtin TFLite
        op with these integer weights would store.
    """
    sign = np.where(a < 0, -1, 1)
    filter_scale = (np.abs(a) * weight_scale.astype(np.float64)).astype(np.float32)
    multiplier = np.zeros(a.shape, np.int32)
    shift = np.zeros(a.shape, np.int32)
    bias = np.zeros(a.shape, np.int32)
    for o in range(a.size):
        m, s = quantize_multiplier(effective_multiplier(input_scale, filter_scale[o], output_scale))
        multiplier[o], shift[o] = sign[o] * m, s
        step = float(input_scale) * float(filter_scale[o])
        if step > 0:
            bias[o] = int(np.clip(np.round(sign[o] * c[o] / step), INT32_MIN, INT32_MAX))
    return bias, multiplier, shift, filter_scale


def activation_bounds(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """int8 output clamp of a fused activation (TFLM's CalculateActivationRangeQuantized)."""
    lo, hi = -128, 127

    def q(value):
        ratio = value / scale
        return zero_point + int(math.copysign(math.floor(abs(ratio) + 0.5), ratio))  # TfLiteRound

    if activation == "RELU":
        lo = max(lo, q(0.0))
    elif activation == "RELU6":
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif activation == "RELU_N1_TO_1":
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    elif activation != "NONE":
        raise ValueError(f"fused activation {activation} cannot be expressed")
    return lo, hi


def float_activation_bounds(activation: str) -> tuple[float, float]:
    bounds = {"NONE": (-math.inf, math.inf), "RELU": (0.0, math.inf), "RELU6": (0.0, 6.0),
              "RELU_N1_TO_1": (-1.0, 1.0)}
    if activation not in bounds:
        raise ValueError(f"fused activation {activation} cannot be expressed")
    return bounds[activation]
