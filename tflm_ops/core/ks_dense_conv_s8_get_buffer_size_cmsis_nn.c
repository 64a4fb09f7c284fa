// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"

/* CMSIS-NN's own size, asked as TFLM's cmsis_nn kernel asks at Prepare. */
int32_t ks_dense_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    ks__nn_plan n;
    if (ks__check_conv_args(cp, in, out) != KS_OK) {
        return 0;
    }
    n.u.conv = ks__nn_conv_params(cp, NULL);
    ks__nn_conv_dims(&n, NULL, cp, in, out, in->c);
    return arm_convolve_wrapper_s8_get_buffer_size(&n.u.conv, &n.in_dims, &n.filter_dims, &n.out_dims);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_conv_s8_get_buffer_size_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
