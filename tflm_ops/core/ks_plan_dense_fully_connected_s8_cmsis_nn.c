// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"
#include "ks_plan_dense_internal.h"

/* CMSIS-NN's argument structs were built at Prepare: a run is the call
 * TFLM's cmsis_nn FULLY_CONNECTED makes. */
static ks_status ks__run_nn_fc(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                               void *scratch)
{
    const ks__nn_plan *n = ks__nn_plan_of_c(p);
    cmsis_nn_context ctx;
    if (level != 0) {
        return KS_ERR_LEVEL;
    }
    ctx.buf = scratch;
    ctx.size = n->buf_size;
#if defined(ARM_MATH_MVEI)
    if (n->buf_size > 0) {
        if (scratch == NULL) {
            return KS_ERR_ARG;
        }
        arm_vector_sum_s8((int32_t *)scratch, p->cols, p->rows, p->weights, p->dq.input_offset, 0, p->dq.bias);
    }
#endif
    return arm_fully_connected_per_channel_s8(&ctx, &n->u.fc, &n->pq, &n->in_dims, input, &n->filter_dims,
                                              p->weights, &n->bias_dims, p->dq.bias, &n->out_dims,
                                              output) == ARM_CMSIS_NN_SUCCESS
               ? KS_OK
               : KS_ERR_ARG;
}

static ks_status ks__run_nn_none(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                 void *scratch)
{
    (void)p;
    (void)input;
    (void)output;
    (void)scratch;
    return level != 0 ? KS_ERR_LEVEL : KS_OK;
}

ks_status ks_plan_dense_fully_connected_s8(ks_plan *p, const int8_t *weights, int32_t rows, int32_t cols,
                                           const ks_dense_quant *q, int32_t batches)
{
    ks__nn_plan *n;
    const ks_status s = ks__plan_dense_fc_common(p, weights, rows, cols, q, batches);
    if (s != KS_OK) {
        return s;
    }
    n = ks__nn_plan_of(p);
    n->filter_dims = ks__nn_dims(cols, 1, 1, rows);
    n->buf_size = arm_fully_connected_s8_get_buffer_size(&n->filter_dims);
    p->scratch_size = n->buf_size;
    n->pq = ks__nn_quant(q);
    n->in_dims = ks__nn_dims(batches, 1, 1, cols);
    n->bias_dims = ks__nn_dims(1, 1, 1, rows);
    n->out_dims = ks__nn_dims(batches, 1, 1, rows);
    n->u.fc.input_offset = q->input_offset;
    n->u.fc.filter_offset = 0;
    n->u.fc.output_offset = q->output_offset;
    n->u.fc.activation.min = q->act_min;
    n->u.fc.activation.max = q->act_max;
    p->run = batches > 0 ? ks__run_nn_fc : ks__run_nn_none;
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_plan_dense_fully_connected_s8_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
