// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_internal.h"

/* Exported so host tests can compare the requantizer against TFLM on
 * arbitrary accumulators.  Unlike the kernels' inline copy it also handles
 * the one saturating case of gemmlowp (x = multiplier = INT32_MIN), so it
 * matches TFLM for every input. */
int32_t ks_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
#if !KS_SINGLE_ROUNDING
    if (shift <= 0 && x == INT32_MIN && multiplier == INT32_MIN) {
        const int32_t right = -shift;
        const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
        const int32_t hi = INT32_MAX;
        return (hi >> right) + ((hi & mask) > (mask >> 1) ? 1 : 0);
    }
#endif
    return ks__mbqm(x, multiplier, shift);
}
