# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The cost model of option ``dense_top`` (docs/format.md §14) and its exactness condition."""

from __future__ import annotations

import numpy as np

# Cost model of option dense_top (docs/format.md §14): the densest level runs the dense kernels
# (CMSIS-NN on Cortex-M) when it keeps at least this fraction of the layer's weights.  Fully
# connected layers (one input vector: no reuse of a loaded weight across pixels; an entry costs
# ~4.4-4.5 instructions, CMSIS-NN ~1.95-2.1 per MAC): M4, planned FC 256->256 nested_csr / row
# 0.61 / 0.60x CMSIS-NN at 25 % density and 1.13 / 1.12x at 50 % (break-even ~43 %), nested_block
# 0.47 / 0.84x (~57 %); FC 784->256 nested_csr 0.60 / 1.16x.
DENSE_TOP_MIN_DENSITY = 0.40
# Stride-1 1x1 convolutions: the sparse pointwise loop shares each loaded weight across four pixels,
# so it stays ahead of the dense kernel up to a higher density.
DENSE_TOP_MIN_DENSITY_POINTWISE = 0.55
# Other convolutions and depthwise: the sparse conv runs four output pixels per loaded entry over a
# q15 im2col, sparse depthwise channel by channel; both break even with CMSIS-NN dense near 60 %
# density (M4: 3x3 conv nested_csr 0.83x at 50 %, nested_block 0.71x; depthwise 0.88x).
DENSE_TOP_MIN_DENSITY_CONV = 0.60


def dense_requantization_is_exact(weights: np.ndarray, bias: np.ndarray, multiplier: np.ndarray,
                                  shift: np.ndarray) -> bool:
    """Whether CMSIS-NN's dense kernels requantize a level exactly as TFLite does.

    CMSIS-NN multiplies by a negative multiplier directly where TFLite (and
    format §5.2) negates the accumulator; they agree for every input when
    ``|bias| + 255 * sum|w| < 2^(31 - max(shift, 0))`` (``tflm_ops/include/ks_dense.h``).
    Prepare refuses a dense level that breaks it, so such a level stays sparse.
    """
    negative = np.asarray(multiplier) < 0
    if not negative.any():
        return True
    bound = np.abs(np.asarray(bias, np.int64)) + 255 * np.abs(np.asarray(weights, np.int64)).sum(axis=1)
    limit = np.left_shift(np.int64(1), 31 - np.maximum(np.asarray(shift, np.int64), 0))
    return bool(np.all(bound[negative] < limit[negative]))


def choose_dense_top(fmt: str, kind: str, geometry: dict, int8: bool, num_levels: int, *,
                     density: float = 1.0, full_width: bool = True) -> bool:
    """Whether an operator stores its densest level as dense weights run by the dense kernels.

    Args:
        fmt: the weight format (``nested_csr``, ``nested_block``, ``row``,
            ``structured``).
        kind: ``fully_connected``, ``conv_2d`` or ``depthwise_conv_2d``.
        geometry: the operator options (kernel size and strides).
        int8: the dense kernels are int8 only, so float32 files never use it.
        num_levels: ``L``; a sparse format needs ``L >= 2`` (levels
            0..L-2 stay sparse).
        density: the densest level's fraction of the layer's weights.
        full_width: structured only: the densest level uses every output
            and input channel.
    """
    if not int8:
        return False
    if fmt == "structured":
        return full_width
    if num_levels < 2:
        return False
    if kind == "fully_connected":
        return density >= DENSE_TOP_MIN_DENSITY
    pointwise = (kind == "conv_2d" and geometry["kernel_h"] == geometry["kernel_w"] == 1
                 and geometry["stride_h"] == geometry["stride_w"] == 1)
    return density >= (DENSE_TOP_MIN_DENSITY_POINTWISE if pointwise else DENSE_TOP_MIN_DENSITY_CONV)
