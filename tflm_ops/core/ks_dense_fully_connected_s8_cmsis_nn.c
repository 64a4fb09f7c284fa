// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"

/* As TFLM's cmsis_nn FULLY_CONNECTED for per-channel int8 with a rank-2
 * output: arm_fully_connected_per_channel_s8, with the kernel sums (only
 * MVE asks for them) computed into the scratch buffer first. */
ks_status ks_dense_fully_connected_s8(const int8_t *weights, int32_t rows, int32_t cols, const ks_dense_quant *q,
                                      int32_t batches, const int8_t *input, int8_t *output, void *scratch)
{
    cmsis_nn_context ctx;
    cmsis_nn_fc_params fc;
    cmsis_nn_per_channel_quant_params pq;
    cmsis_nn_dims in_dims;
    cmsis_nn_dims filter_dims;
    cmsis_nn_dims bias_dims;
    cmsis_nn_dims out_dims;
    int32_t size;

    if (weights == NULL || rows < 1 || cols < 1 || batches < 0 || !ks__dense_quant_ok(q) ||
        (batches > 0 && (input == NULL || output == NULL))) {
        return KS_ERR_ARG;
    }
    if (batches == 0) {
        return KS_OK;
    }
    filter_dims = ks__nn_dims(cols, 1, 1, rows);
#if defined(ARM_MATH_MVEI)
    size = arm_fully_connected_s8_get_buffer_size(&filter_dims);
    if (size > 0 && scratch == NULL) {
        return KS_ERR_ARG;
    }
    if (size > 0 && arm_vector_sum_s8((int32_t *)scratch, cols, rows, weights, q->input_offset, 0, q->bias) !=
                        ARM_CMSIS_NN_SUCCESS) {
        return KS_ERR_ARG;
    }
#else
    size = 0; /* arm_fully_connected_s8_get_buffer_size_dsp() */
#endif
    ctx.buf = scratch;
    ctx.size = size;
    fc.input_offset = q->input_offset;
    fc.filter_offset = 0;
    fc.output_offset = q->output_offset;
    fc.activation.min = q->act_min;
    fc.activation.max = q->act_max;
    pq = ks__nn_quant(q);
    in_dims = ks__nn_dims(batches, 1, 1, cols);
    bias_dims = ks__nn_dims(1, 1, 1, rows);
    out_dims = ks__nn_dims(batches, 1, 1, rows);
    return arm_fully_connected_per_channel_s8(&ctx, &fc, &pq, &in_dims, input, &filter_dims, weights, &bias_dims,
                                              q->bias, &out_dims, output) == ARM_CMSIS_NN_SUCCESS
               ? KS_OK
               : KS_ERR_ARG;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_fully_connected_s8_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
