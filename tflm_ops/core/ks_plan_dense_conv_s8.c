// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"
#include "ks_plan_dense_internal.h"
#include "ks_plan_internal.h"

/* The portable kernel's O(1) argument checks stay (a few dozen
 * instructions next to a convolution's work). */
static ks_status ks__run_dense_conv(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                   void *scratch)
{
    if (level != 0) {
        return KS_ERR_LEVEL;
    }
    return ks_dense_conv_s8(&p->cp, p->weights, &p->dq, &p->in, input, &p->out, output, scratch);
}

ks_status ks_plan_dense_conv_s8(ks_plan *p, const ks_conv_params *cp, const int8_t *weights,
                                const ks_dense_quant *q, const ks_dims *in, const ks_dims *out)
{
    const ks_status s = ks__plan_dense_conv_common(p, cp, weights, q, in, out);
    if (s != KS_OK) {
        return s;
    }
    p->scratch_size = ks_dense_conv_s8_get_buffer_size(cp, in, out);
    p->run = ks__run_dense_conv;
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_plan_dense_conv_s8_unused;
#endif /* !KS_CMSIS_NN */
