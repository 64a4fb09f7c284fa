// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * What every dense conv / depthwise plan (portable or CMSIS-NN build) checks
 * and records before the build-specific part.
 */
#ifndef KS_PLAN_DENSE_INTERNAL_H
#define KS_PLAN_DENSE_INTERNAL_H

#include <string.h>

#include "ks_dense.h"
#include "ks_internal.h"
#include "ks_plan.h"

/* Geometry and requantization checked, then the plan cleared and filled
 * with the arguments a run reads.  On error the plan is left untouched. */
static inline ks_status ks__plan_dense_conv_common(ks_plan *p, const ks_conv_params *cp, const int8_t *weights,
                                                   const ks_dense_quant *q, const ks_dims *in, const ks_dims *out)
{
    ks_status s;
    if (p == NULL || weights == NULL || out == NULL) {
        return KS_ERR_ARG;
    }
    s = ks__check_conv_args(cp, in, out);
    if (s != KS_OK) {
        return s;
    }
    s = ks_dense_validate_quant(q, out->c);
    if (s != KS_OK) {
        return s;
    }
    memset(p, 0, sizeof *p);
    p->num_levels = 1;
    p->weights = weights;
    p->dq = *q;
    p->cp = *cp;
    p->in = *in;
    p->out = *out;
    return KS_OK;
}

#endif /* KS_PLAN_DENSE_INTERNAL_H */
