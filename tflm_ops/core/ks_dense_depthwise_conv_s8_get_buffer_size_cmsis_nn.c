// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"

/* CMSIS-NN's own size, asked as TFLM's cmsis_nn kernel asks at Prepare. */
int32_t ks_dense_depthwise_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_dims *in,
                                                   const ks_dims *out)
{
    cmsis_nn_dw_conv_params dw;
    cmsis_nn_dims in_dims;
    cmsis_nn_dims filter_dims;
    cmsis_nn_dims out_dims;
    if (ks__check_conv_args(cp, in, out) != KS_OK) {
        return 0;
    }
    dw = ks__nn_dw_params(cp, NULL);
    in_dims = ks__nn_dims(in->n, in->h, in->w, in->c);
    filter_dims = ks__nn_dims(1, cp->kernel_h, cp->kernel_w, out->c);
    out_dims = ks__nn_dims(out->n, out->h, out->w, out->c);
    return arm_depthwise_conv_wrapper_s8_get_buffer_size(&dw, &in_dims, &filter_dims, &out_dims);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_depthwise_conv_s8_get_buffer_size_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
