// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * What every dense plan (portable or CMSIS-NN build) checks and records
 * before the build-specific part.
 */
#ifndef KS_PLAN_DENSE_INTERNAL_H
#define KS_PLAN_DENSE_INTERNAL_H

#include <string.h>

#include "ks_dense.h"
#include "ks_internal.h"
#include "ks_plan.h"

/* The plan cleared to one level over `weights` requantized by `q` (both
 * checked by the caller). */
static inline void ks__plan_dense_init(ks_plan *p, const int8_t *weights, const ks_dense_quant *q)
{
    memset(p, 0, sizeof *p);
    p->num_levels = 1;
    p->weights = weights;
    p->dq = *q;
}

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
    ks__plan_dense_init(p, weights, q);
    p->cp = *cp;
    p->in = *in;
    p->out = *out;
    return KS_OK;
}

/* The same for a fully connected plan: weights[rows][cols] over `batches`
 * input vectors. */
static inline ks_status ks__plan_dense_fc_common(ks_plan *p, const int8_t *weights, int32_t rows, int32_t cols,
                                                 const ks_dense_quant *q, int32_t batches)
{
    ks_status s;
    if (p == NULL || weights == NULL || rows < 1 || cols < 1 || batches < 0) {
        return KS_ERR_ARG;
    }
    s = ks_dense_validate_quant(q, rows);
    if (s != KS_OK) {
        return s;
    }
    ks__plan_dense_init(p, weights, q);
    p->rows = rows;
    p->cols = cols;
    p->batches = batches;
    return KS_OK;
}

#endif /* KS_PLAN_DENSE_INTERNAL_H */
