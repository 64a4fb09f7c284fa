// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_validate_common.h"

ks_status ks_validate_structured(const ks_matrix *w)
{
    int32_t k;
    ks_status s = ks__validate_header(w, KS_FORMAT_STRUCTURED);
    if (s != KS_OK) {
        return s;
    }
    if (w->out_width == NULL || w->in_width == NULL || w->num_table != w->num_levels || w->in_channels < 1 ||
        w->depth_multiplier < 0) {
        return KS_ERR_FORMAT;
    }
    if (w->depth_multiplier == 0) {
        if (w->cols % w->in_channels != 0) {
            return KS_ERR_FORMAT;
        }
    } else if ((int64_t)w->in_channels * w->depth_multiplier != (int64_t)w->rows) {
        return KS_ERR_FORMAT;
    }
    if ((int64_t)w->rows * w->cols != (int64_t)w->num_values) {
        return KS_ERR_FORMAT;
    }
    for (k = 0; k < w->num_levels; ++k) {
        const int32_t ow = w->out_width[k];
        const int32_t iw = w->in_width[k];
        if (ow < 0 || ow > w->rows || iw < 0 || iw > w->in_channels) {
            return KS_ERR_FORMAT;
        }
        if (k > 0 && (ow < w->out_width[k - 1] || iw < w->in_width[k - 1])) {
            return KS_ERR_FORMAT;
        }
        /* Depthwise channels are coupled: output o reads input o / mult. */
        if (w->depth_multiplier > 0 && (int64_t)iw * w->depth_multiplier != (int64_t)ow) {
            return KS_ERR_FORMAT;
        }
    }
    return KS_OK;
}
