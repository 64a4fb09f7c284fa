// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_ops.h"

/* Element count of each per-channel table (format v2, ks_table_layout).
 * `w` must have passed ks_validate_matrix(): the structured widths are then
 * in [0, rows], so the prefix sum cannot overflow (L <= 16). */
int32_t ks_table_length(const ks_matrix *w, int32_t layout)
{
    int32_t n = 0;
    int32_t k;
    if (w == NULL || w->rows < 0 || w->num_levels < 1 || w->num_levels > KS_MAX_LEVELS) {
        return -1;
    }
    switch (layout) {
    case KS_TABLES_SHARED:
        return w->rows;
    case KS_TABLES_PER_LEVEL:
        if ((int64_t)w->rows * w->num_levels > INT32_MAX) {
            return -1;
        }
        return w->rows * w->num_levels;
    case KS_TABLES_PREFIX:
        if (w->format != KS_FORMAT_STRUCTURED || w->out_width == NULL || w->num_table != w->num_levels) {
            return -1;
        }
        for (k = 0; k < w->num_levels; ++k) {
            if (w->out_width[k] < 0 || w->out_width[k] > w->rows) {
                return -1;
            }
            n += w->out_width[k];
        }
        return n;
    default:
        return -1;
    }
}
