// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_plan_internal.h"

static ks_status ks__run_depthwise(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                   void *scratch)
{
    const ks_status s = ks__plan_run_check(p, level, scratch);
    if (s != KS_OK) {
        return s;
    }
    return ks__depthwise_conv_s8_body(&p->cp, &p->w, level, &p->q, &p->in, input, &p->out, output, scratch,
                                      p->qbase[level]);
}

ks_status ks_plan_depthwise_conv_s8(ks_plan *p, const ks_conv_params *cp, const ks_matrix *w,
                                    const ks_quant_params *q, const ks_dims *in, const ks_dims *out)
{
    int32_t taps;
    ks_status s = ks__plan_sparse(p, w, q);
    if (s != KS_OK) {
        return s;
    }
    s = ks__check_conv_args(cp, in, out);
    if (s != KS_OK) {
        return s;
    }
    /* As ks_depthwise_conv_s8's checks. */
    if (cp->depth_multiplier < 1) {
        return KS_ERR_ARG;
    }
    taps = cp->kernel_h * cp->kernel_w;
    if (w->cols != taps || (int64_t)w->rows != (int64_t)in->c * cp->depth_multiplier || out->c != w->rows) {
        return KS_ERR_ARG;
    }
    if (w->format == KS_FORMAT_STRUCTURED && (w->in_channels != in->c || w->depth_multiplier != cp->depth_multiplier)) {
        return KS_ERR_ARG;
    }
    p->cp = *cp;
    p->in = *in;
    p->out = *out;
    p->scratch_size = ks_depthwise_conv_s8_get_buffer_size(cp, w, in);
    p->run = ks__run_depthwise;
    return KS_OK;
}
