// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_validate_common.h"

ks_status ks_validate_row(const ks_matrix *w)
{
    const int32_t L = w != NULL ? w->num_levels : 0;
    int32_t k;
    int32_t o;
    int32_t n_max;
    int32_t u8;
    ks_status s = ks__validate_header(w, KS_FORMAT_ROW);
    if (s != KS_OK) {
        return s;
    }
    if (w->counts == NULL || w->num_table != L) {
        return KS_ERR_FORMAT;
    }
    if (w->cols > 65536) {
        return KS_ERR_UNSUPPORTED;
    }
    for (k = 0; k < L; ++k) {
        if (w->counts[k] < 0 || w->counts[k] > w->cols || (k > 0 && w->counts[k] < w->counts[k - 1])) {
            return KS_ERR_FORMAT;
        }
    }
    n_max = w->counts[L - 1];
    if ((int64_t)w->rows * n_max != (int64_t)w->num_indices) {
        return KS_ERR_FORMAT;
    }
    s = ks__validate_sparse_values(w, 1);
    if (s != KS_OK) {
        return s;
    }
    if (w->indices == NULL && w->num_indices > 0) {
        return KS_ERR_FORMAT;
    }
    u8 = ks_index_is_u8(w->cols);
    for (o = 0; o < w->rows; ++o) {
        int32_t begin = 0;
        for (k = 0; k < L; ++k) {
            int32_t prev = -1;
            int32_t j;
            for (j = begin; j < w->counts[k]; ++j) {
                const int32_t c = ks__index_at(w->indices, u8, o * n_max + j);
                if (c >= w->cols || c <= prev) {
                    return KS_ERR_FORMAT;
                }
                prev = c;
            }
            begin = w->counts[k];
        }
    }
    return KS_OK;
}
