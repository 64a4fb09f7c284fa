// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"

/* Per in-image tap of an output pixel: its input offset and weight offset. */
int32_t ks_dense_depthwise_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_dims *in,
                                                   const ks_dims *out)
{
    (void)in;
    (void)out;
    if (cp == NULL || cp->kernel_h < 1 || cp->kernel_w < 1 ||
        (int64_t)cp->kernel_h * cp->kernel_w > INT32_MAX / 8) {
        return 0;
    }
    return cp->kernel_h * cp->kernel_w * 2 * (int32_t)sizeof(int32_t);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_depthwise_conv_s8_get_buffer_size_unused;
#endif /* !KS_CMSIS_NN */
