// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* Checks shared by the per-format validators (internal). */
#ifndef KS_VALIDATE_COMMON_H
#define KS_VALIDATE_COMMON_H

#include "ks_internal.h"

static inline ks_status ks__validate_header(const ks_matrix *w, int32_t format)
{
    if (w == NULL || w->values == NULL) {
        return KS_ERR_ARG;
    }
    if (w->format != format) {
        return KS_ERR_ARG;
    }
    if (w->dtype != KS_DTYPE_INT8 && w->dtype != KS_DTYPE_FLOAT32) {
        return KS_ERR_FORMAT;
    }
    if (w->num_levels < 1 || w->num_levels > KS_MAX_LEVELS) {
        return KS_ERR_FORMAT;
    }
    if (w->rows < 0 || w->cols < 1 || w->num_values < 0 || w->num_indices < 0) {
        return KS_ERR_FORMAT;
    }
    /* Tap-major values: a structured depthwise matrix (format v3) or an int8
     * sparse one, whose values are the dense weights D (format v4; the
     * depthwise kernel is the only one that accepts it). */
    if (w->tap_major != 0 &&
        (w->tap_major != 1 ||
         (w->format == KS_FORMAT_STRUCTURED ? w->depth_multiplier < 1 : w->dtype != KS_DTYPE_INT8))) {
        return KS_ERR_FORMAT;
    }
    return KS_OK;
}

/* Sparse formats: int8 values are the dense weights D, rows*cols of them
 * (format v4: entries are columns into D's rows); float32 values are one
 * per stored column, `per_entry` per index. */
static inline ks_status ks__validate_sparse_values(const ks_matrix *w, int64_t per_entry)
{
    if (w->dtype == KS_DTYPE_INT8) {
        return (int64_t)w->num_values == (int64_t)w->rows * w->cols ? KS_OK : KS_ERR_FORMAT;
    }
    return (int64_t)w->num_values == per_entry * (int64_t)w->num_indices ? KS_OK : KS_ERR_FORMAT;
}

/* Index j of a uint8 or uint16 index array. */
static inline int32_t ks__index_at(const void *indices, int32_t u8, int32_t j)
{
    return u8 ? (int32_t)((const uint8_t *)indices)[j] : (int32_t)((const uint16_t *)indices)[j];
}

/*
 * Pointer-based formats: P (uint16 or int32, ks_ptr_is_u16(num_indices)) has
 * rows*L + 1 entries, starts at 0, never decreases, ends at the index count; inside each (row, level) group the
 * indices are < space and strictly ascending (so no duplicate inside a group).
 */
static inline ks_status ks__validate_ptr_groups(const ks_matrix *w, int32_t space)
{
    const int32_t L = w->num_levels;
    const int32_t u8 = ks_index_is_u8(space);
    int32_t g;
    int32_t groups;

    if (w->ptr == NULL || (w->indices == NULL && w->num_indices > 0)) {
        return KS_ERR_FORMAT;
    }
    if (space > 65536) {
        return KS_ERR_UNSUPPORTED; /* uint16 indices cannot address it */
    }
    if ((int64_t)w->rows * L + 1 > INT32_MAX) {
        return KS_ERR_FORMAT;
    }
    groups = w->rows * L;
    if (w->num_ptr != groups + 1) {
        return KS_ERR_FORMAT;
    }
    /* Only now is P known to hold groups + 1 elements of the derived width. */
    if (ks__ptr_at(w, 0) != 0 || ks__ptr_at(w, groups) != w->num_indices) {
        return KS_ERR_FORMAT;
    }
    for (g = 0; g < groups; ++g) {
        const int32_t b = ks__ptr_at(w, g);
        const int32_t e = ks__ptr_at(w, g + 1);
        int32_t j;
        int32_t prev = -1;
        if (e < b || e > w->num_indices) {
            return KS_ERR_FORMAT;
        }
        for (j = b; j < e; ++j) {
            const int32_t c = ks__index_at(w->indices, u8, j);
            if (c >= space || c <= prev) {
                return KS_ERR_FORMAT;
            }
            prev = c;
        }
    }
    return KS_OK;
}

/* Scalar ranges of int8 requantization parameters and the first `n` entries
 * of each table (the caller derived `n` from the layout). */
static inline ks_status ks__validate_quant_entries(const ks_quant_params *q, int32_t n)
{
    int32_t i;
    if (q == NULL || q->multiplier == NULL || q->shift == NULL || n < 0) {
        return KS_ERR_ARG;
    }
    /* input_offset must keep -input_offset representable as int8: the conv
     * kernels pad windows with that value. */
    if (q->input_offset < -127 || q->input_offset > 128 || q->output_offset < -128 ||
        q->output_offset > 127 || q->act_min < -128 || q->act_max > 127 || q->act_min > q->act_max) {
        return KS_ERR_ARG;
    }
    for (i = 0; i < n; ++i) {
        /* The requantizer's shifts are only defined on this range; a negative
         * multiplier negates the accumulator, so INT32_MIN has no magnitude. */
        if (q->multiplier[i] == INT32_MIN || q->shift[i] < -31 || q->shift[i] > 30) {
            return KS_ERR_ARG;
        }
    }
    return KS_OK;
}

#endif /* KS_VALIDATE_COMMON_H */
