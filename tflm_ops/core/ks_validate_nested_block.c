// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_validate_common.h"

ks_status ks_validate_nested_block(const ks_matrix *w)
{
    int32_t blocks;
    ks_status s = ks__validate_header(w, KS_FORMAT_NESTED_BLOCK);
    if (s != KS_OK) {
        return s;
    }
    blocks = w->cols / 2 + (w->cols & 1);
    s = ks__validate_ptr_groups(w, blocks);
    if (s != KS_OK) {
        return s;
    }
    s = ks__validate_sparse_values(w, 2);
    if (s != KS_OK) {
        return s;
    }
    /* int8 (format v4): a block's two values are D[o][2b], D[o][2b+1] read
     * as one pair, so an odd width has no second column to read (the
     * converter writes such a layer as nested_csr). */
    if (w->dtype == KS_DTYPE_INT8 && (w->cols & 1)) {
        return KS_ERR_FORMAT;
    }
    /* The half-empty last block of an odd row must carry a zero second value:
     * kernels may then treat it like any other pair on the SIMD path. */
    if (w->cols & 1) {
        const int32_t last = blocks - 1;
        const int32_t u8 = ks_index_is_u8(blocks);
        int32_t j;
        for (j = 0; j < w->num_indices; ++j) {
            if (ks__index_at(w->indices, u8, j) != last) {
                continue;
            }
            if (((const float *)w->values)[2 * j + 1] != 0.0f) {
                return KS_ERR_FORMAT;
            }
        }
    }
    return KS_OK;
}
