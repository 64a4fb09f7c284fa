// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"

/* Two im2col windows (one per pixel of a pair), each padded to a word. */
int32_t ks_dense_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    int64_t cols;
    if (cp == NULL || in == NULL || out == NULL || cp->kernel_h < 1 || cp->kernel_w < 1 || in->c < 1 ||
        cp->stride_h < 1 || cp->stride_w < 1) {
        return 0;
    }
    if (ks__conv_1x1_direct(cp, in, out)) {
        return 0;
    }
    cols = (int64_t)cp->kernel_h * cp->kernel_w * in->c;
    if (cols > INT32_MAX / 4) {
        return 0;
    }
    return 2 * (int32_t)((cols + 3) & ~(int64_t)3);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_conv_s8_get_buffer_size_unused;
#endif /* !KS_CMSIS_NN */
