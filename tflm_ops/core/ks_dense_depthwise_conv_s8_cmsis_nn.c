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
    cmsis_nn_dw_conv_params dw;
    cmsis_nn_per_channel_quant_params pq;
    cmsis_nn_dims in_dims;
    cmsis_nn_dims filter_dims;
    cmsis_nn_dims bias_dims;
    cmsis_nn_dims out_dims;
    ks_status s = ks__check_conv_args(cp, in, out);

    if (s != KS_OK) {
        return s;
    }
    if (weights == NULL || !ks__dense_quant_ok(q) || cp->depth_multiplier < 1 ||
        (int64_t)in->c * cp->depth_multiplier != out->c || !ks__nn_geometry_ok(cp, in, out)) {
        return KS_ERR_ARG;
    }
    if (in->n == 0) {
        return KS_OK;
    }
    if (input == NULL || output == NULL) {
        return KS_ERR_ARG;
    }
    dw = ks__nn_dw_params(cp, q);
    pq = ks__nn_quant(q);
    in_dims = ks__nn_dims(in->n, in->h, in->w, in->c);
    filter_dims = ks__nn_dims(1, cp->kernel_h, cp->kernel_w, out->c);
    bias_dims = ks__nn_dims(1, 1, 1, out->c);
    out_dims = ks__nn_dims(out->n, out->h, out->w, out->c);
    ctx.size = arm_depthwise_conv_wrapper_s8_get_buffer_size(&dw, &in_dims, &filter_dims, &out_dims);
    ctx.buf = scratch;
    if (ctx.size > 0 && scratch == NULL) {
        return KS_ERR_ARG;
    }
    return arm_depthwise_conv_wrapper_s8(&ctx, &dw, &pq, &in_dims, input, &filter_dims, weights, &bias_dims,
                                         q->bias, &out_dims, output) == ARM_CMSIS_NN_SUCCESS
               ? KS_OK
               : KS_ERR_ARG;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_depthwise_conv_s8_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
