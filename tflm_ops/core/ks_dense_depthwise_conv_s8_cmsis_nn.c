// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"

/* As TFLM's cmsis_nn DEPTHWISE_CONV_2D for per-channel int8:
 * arm_depthwise_conv_wrapper_s8 picks the 3x3 / opt / generic kernel. */
ks_status ks_dense_depthwise_conv_s8(const ks_conv_params *cp, const int8_t *weights, const ks_dense_quant *q,
                                     const ks_dims *in, const int8_t *input, const ks_dims *out, int8_t *output,
                                     void *scratch)
{
    cmsis_nn_context ctx;
    ks__nn_plan n; /* the plan's CMSIS-NN arguments, built per call */
    ks_status s = ks__dense_conv_args(cp, weights, q, in, out);

    if (s != KS_OK) {
        return s;
    }
    if (!ks__dense_dw_channels_ok(cp, in, out) || !ks__nn_geometry_ok(cp, in, out)) {
        return KS_ERR_ARG;
    }
    if (in->n == 0) {
        return KS_OK;
    }
    if (input == NULL || output == NULL) {
        return KS_ERR_ARG;
    }
    n.u.dw = ks__nn_dw_params(cp, q);
    ks__nn_conv_dims(&n, q, cp, in, out, out->c);
    n.buf_size = arm_depthwise_conv_wrapper_s8_get_buffer_size(&n.u.dw, &n.in_dims, &n.filter_dims, &n.out_dims);
    s = ks__nn_context(&ctx, n.buf_size, scratch);
    if (s != KS_OK) {
        return s;
    }
    return arm_depthwise_conv_wrapper_s8(&ctx, &n.u.dw, &n.pq, &n.in_dims, input, &n.filter_dims, weights,
                                         &n.bias_dims, q->bias, &n.out_dims, output) == ARM_CMSIS_NN_SUCCESS
               ? KS_OK
               : KS_ERR_ARG;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_depthwise_conv_s8_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
