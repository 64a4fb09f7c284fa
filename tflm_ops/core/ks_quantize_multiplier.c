// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <math.h>
#include <stddef.h>

#include "ks_ops.h"

/* Same result as TFLM QuantizeMultiplier() so the Python converter and
 * firmware derive identical (multiplier, shift) pairs from the same scales. */
ks_status ks_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    int exp = 0;
    double q;
    int64_t q_fixed;

    if (multiplier == NULL || shift == NULL) {
        return KS_ERR_ARG;
    }
    /* TFLM only ever feeds non-negative scale ratios; reject the rest rather
     * than produce a multiplier the requantizer does not support. */
    if (!(real >= 0.0) || isinf(real)) {
        *multiplier = 0;
        *shift = 0;
        return KS_ERR_ARG;
    }
    if (real == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return KS_OK;
    }
    q = frexp(real, &exp);
    /* TfLiteRound is std::round: half away from zero. */
    q_fixed = (int64_t)round(q * (double)((int64_t)1 << 31));
    if (q_fixed == ((int64_t)1 << 31)) {
        q_fixed /= 2;
        ++exp;
    }
    /* Below 2^-31 every product rounds to zero; TFLM flushes it to 0. */
    if (exp < -31) {
        exp = 0;
        q_fixed = 0;
    }
#if defined(KS_SINGLE_ROUNDING) && KS_SINGLE_ROUNDING
    if (exp > 30) {
        exp = 30;
        q_fixed = ((int64_t)1 << 31) - 1;
    }
#endif
    *multiplier = (int32_t)q_fixed;
    *shift = (int32_t)exp;
    return KS_OK;
}
