// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"

/* CMSIS-NN's own size, asked as TFLM's cmsis_nn kernel asks at Prepare. */
int32_t ks_dense_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    cmsis_nn_conv_params conv;
    cmsis_nn_dims in_dims;
    cmsis_nn_dims filter_dims;
    cmsis_nn_dims out_dims;
    if (ks__check_conv_args(cp, in, out) != KS_OK) {
        return 0;
    }
    conv = ks__nn_conv_params(cp, NULL);
    in_dims = ks__nn_dims(in->n, in->h, in->w, in->c);
    filter_dims = ks__nn_dims(1, cp->kernel_h, cp->kernel_w, in->c);
    out_dims = ks__nn_dims(out->n, out->h, out->w, out->c);
    return arm_convolve_wrapper_s8_get_buffer_size(&conv, &in_dims, &filter_dims, &out_dims);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_conv_s8_get_buffer_size_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
