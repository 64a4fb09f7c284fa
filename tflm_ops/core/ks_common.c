// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_internal.h"

ks_status ks__check_level(const ks_matrix *w, int32_t level, int32_t dtype)
{
    const int32_t L = w != NULL ? w->num_levels : 0;

    if (w == NULL || w->values == NULL) {
        return KS_ERR_ARG;
    }
    if (w->dtype != dtype) {
        return KS_ERR_ARG;
    }
    if (L < 1 || L > KS_MAX_LEVELS || w->rows < 0 || w->cols < 1) {
        return KS_ERR_FORMAT;
    }
    /* The level comes from a tensor written at run time: check it before
     * any table is indexed with it. */
    if (level < 0 || level >= L) {
        return KS_ERR_LEVEL;
    }
    if (w->format >= KS_FORMAT_NESTED_CSR && w->format <= KS_FORMAT_STRUCTURED && !KS_FORMAT_BUILT(w->format)) {
        return KS_ERR_UNSUPPORTED;
    }
    switch (w->format) {
    case KS_FORMAT_NESTED_CSR:
    case KS_FORMAT_NESTED_BLOCK:
        if (w->ptr == NULL || w->indices == NULL) {
            return KS_ERR_FORMAT;
        }
        return KS_OK;
    case KS_FORMAT_ROW:
        if (w->counts == NULL || w->indices == NULL) {
            return KS_ERR_FORMAT;
        }
        if (w->counts[level] < 0 || w->counts[level] > w->counts[L - 1] ||
            w->counts[L - 1] > w->cols) {
            return KS_ERR_FORMAT;
        }
        return KS_OK;
    case KS_FORMAT_STRUCTURED:
        if (w->out_width == NULL || w->in_width == NULL || w->in_channels < 1) {
            return KS_ERR_FORMAT;
        }
        if (w->out_width[level] < 0 || w->out_width[level] > w->rows ||
            w->in_width[level] < 0 || w->in_width[level] > w->in_channels) {
            return KS_ERR_FORMAT;
        }
        return KS_OK;
    default:
        return KS_ERR_FORMAT;
    }
}

ks_status ks__check_conv_args(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    if (cp == NULL || in == NULL || out == NULL) {
        return KS_ERR_ARG;
    }
    if (cp->kernel_h < 1 || cp->kernel_w < 1 || cp->stride_h < 1 || cp->stride_w < 1 ||
        cp->dilation_h < 1 || cp->dilation_w < 1 || cp->pad_h < 0 || cp->pad_w < 0) {
        return KS_ERR_ARG;
    }
    if (in->n < 0 || in->h < 0 || in->w < 0 || in->c < 1 || out->n != in->n || out->h < 0 ||
        out->w < 0 || out->c < 0) {
        return KS_ERR_ARG;
    }
    return KS_OK;
}
