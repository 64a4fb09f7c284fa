// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include <string.h>

#include "ks_dense_cmsis_nn.h"
#include "ks_plan_dense_internal.h"

/* CMSIS-NN's argument structs were built at Prepare: a run is the call
 * TFLM's cmsis_nn CONV_2D makes. */
static ks_status ks__run_nn_conv(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                 void *scratch)
{
    const ks__nn_plan *n = ks__nn_plan_of_c(p);
    cmsis_nn_context ctx;
    const ks_status s = ks__nn_plan_context(n, level, scratch, &ctx);
    if (s != KS_OK) {
        return s;
    }
    return arm_convolve_wrapper_s8(&ctx, &n->u.conv, &n->pq, &n->in_dims, input, &n->filter_dims, p->weights,
                                   &n->bias_dims, p->dq.bias, &n->out_dims, output) == ARM_CMSIS_NN_SUCCESS
               ? KS_OK
               : KS_ERR_ARG;
}

ks_status ks_plan_dense_conv_s8(ks_plan *p, const ks_conv_params *cp, const int8_t *weights,
                                const ks_dense_quant *q, const ks_dims *in, const ks_dims *out)
{
    ks__nn_plan *n;
    ks_status s;
    s = ks__plan_dense_conv_common(p, cp, weights, q, in, out);
    if (s != KS_OK) {
        return s;
    }
    if (out->c < 1 || in->n < 1 || !ks__nn_geometry_ok(cp, in, out)) {
        memset(p, 0, sizeof *p);
        return KS_ERR_ARG;
    }
    n = ks__nn_plan_of(p);
    n->u.conv = ks__nn_conv_params(cp, q);
    ks__nn_conv_dims(n, q, cp, in, out, in->c);
    n->buf_size = arm_convolve_wrapper_s8_get_buffer_size(&n->u.conv, &n->in_dims, &n->filter_dims, &n->out_dims);
    p->scratch_size = n->buf_size;
    p->run = ks__run_nn_conv;
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_plan_dense_conv_s8_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
