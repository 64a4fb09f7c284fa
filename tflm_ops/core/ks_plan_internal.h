// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Internal helpers of the plans (ks_plan.h).
 */
#ifndef KS_PLAN_INTERNAL_H
#define KS_PLAN_INTERNAL_H

#include <string.h>

#include "ks_internal.h"
#include "ks_plan.h"

/* Checks shared by every sparse plan: the matrix and its tables in full
 * (what the unplanned kernels trust a Prepare-time ks_validate_* call for),
 * every level's O(1) header fields, and each level's table base. */
static inline ks_status ks__plan_sparse(ks_plan *p, const ks_matrix *w, const ks_quant_params *q)
{
    ks_status s;
    int32_t k;
    if (p == NULL || w == NULL || q == NULL || q->multiplier == NULL || q->shift == NULL) {
        return KS_ERR_ARG;
    }
    memset(p, 0, sizeof *p);
    s = ks_validate_matrix(w);
    if (s != KS_OK) {
        return s;
    }
    if (w->dtype != KS_DTYPE_INT8) {
        return KS_ERR_ARG;
    }
    s = ks_validate_quant_params_matrix(q, w);
    if (s != KS_OK) {
        return s;
    }
    for (k = 0; k < w->num_levels; ++k) {
        s = ks__check_level(w, k, KS_DTYPE_INT8);
        if (s != KS_OK) {
            return s;
        }
        p->qbase[k] = ks__table_base(w, q->per_level, k);
        if (p->qbase[k] < 0) {
            return KS_ERR_ARG;
        }
        p->count[k] = w->format == KS_FORMAT_ROW ? w->counts[k] : 0;
    }
    p->w = *w;
    p->q = *q;
    p->num_levels = w->num_levels;
    return KS_OK;
}

/* What a sparse plan's run checks first: a level the plan has, and a
 * scratch buffer when the plan asked for one. */
static inline ks_status ks__plan_run_check(const ks_plan *p, int32_t level, const void *scratch)
{
    if ((uint32_t)level >= (uint32_t)p->num_levels) {
        return KS_ERR_LEVEL;
    }
    return p->scratch_size > 0 && scratch == NULL ? KS_ERR_ARG : KS_OK;
}

#endif /* KS_PLAN_INTERNAL_H */
