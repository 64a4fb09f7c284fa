// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_internal.h"
#include "ks_requant.h"

/* Sparse conv keeps a column -> window offset table (int32 per column) and
 * a padded im2col patch for border pixels only.  1x1 needs neither: its
 * columns are the channels of one pixel.  Structured conv keeps one int32
 * offset per tap. */
static int32_t conv_size(const ks_conv_params *cp, const ks_matrix *w, const ks_dims *in, int32_t elem)
{
    int32_t taps;
    int32_t cols;
    if (cp == NULL || w == NULL || in == NULL || cp->kernel_h < 1 || cp->kernel_w < 1 || in->c < 1) {
        return 0;
    }
    taps = cp->kernel_h * cp->kernel_w;
    if (w->format == KS_FORMAT_STRUCTURED) {
        return taps > 1 ? taps * (int32_t)sizeof(int32_t) : 0;
    }
    if (taps == 1) {
        return 0;
    }
    cols = taps * in->c;
    return cols * (int32_t)sizeof(int32_t) + ((cols * elem + 3) & ~3);
}

int32_t ks_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_matrix *w, const ks_dims *in)
{
    const int32_t size = conv_size(cp, w, in, (int32_t)sizeof(int8_t));
    if (cp != NULL && w != NULL && in != NULL && cp->kernel_h >= 1 && cp->kernel_w >= 1 && in->c >= 1 &&
        w->format == KS_FORMAT_STRUCTURED) {
        /* ks__structured_conv_s8: per-row requantization constants, per-tap
         * offsets, per-element positions of both pixels (int16) and two q15
         * im2col columns of kh*kw*C. */
        const int32_t k = cp->kernel_h * cp->kernel_w * in->c;
        return w->rows * (int32_t)sizeof(ks__rqf) + cp->kernel_h * cp->kernel_w * (int32_t)sizeof(int32_t) +
               4 * k * (int32_t)sizeof(int16_t);
    }
    if (cp != NULL && w != NULL && in != NULL && cp->kernel_h >= 1 && cp->kernel_w >= 1 && in->c >= 1) {
        /* ks__sparse_conv_s8 (any window; 1x1 unpadded stride-1 layers
         * take it at their denser levels): the four pixels' tap pointers,
         * per-row requantization constants and entry ranges, per-tap offsets, the im2col
         * buffer of four pixels plus one zero column (int16) and a padding
         * row. */
        const int32_t k = cp->kernel_h * cp->kernel_w * in->c;
        const int32_t taps = cp->kernel_h * cp->kernel_w;
        const int32_t fast = 4 * taps * (int32_t)sizeof(const int8_t *) + w->rows * (int32_t)(sizeof(ks__rqf) + 8) +
                             taps * (int32_t)sizeof(int32_t) + 4 * (k + 1) * (int32_t)sizeof(int16_t) + in->c;
        return fast > size ? fast : size;
    }
    return size;
}

int32_t ks_conv_f32_get_buffer_size(const ks_conv_params *cp, const ks_matrix *w, const ks_dims *in)
{
    return conv_size(cp, w, in, (int32_t)sizeof(float));
}

/* Depthwise gathers one channel's level entries: per tap an input offset,
 * the weight (int32 / float), and the tap's row and column offsets for
 * border tests. */
static int32_t dw_size(const ks_conv_params *cp)
{
    if (cp == NULL || cp->kernel_h < 1 || cp->kernel_w < 1) {
        return 0;
    }
    return cp->kernel_h * cp->kernel_w * 4 * (int32_t)sizeof(int32_t);
}

int32_t ks_depthwise_conv_s8_get_buffer_size(const ks_conv_params *cp, const ks_matrix *w, const ks_dims *in)
{
    const int32_t size = dw_size(cp);
    if (size > 0 && w != NULL && in != NULL && in->c >= 1 && w->format == KS_FORMAT_STRUCTURED &&
        cp->depth_multiplier == 1) {
        /* ks__structured_depthwise_conv_s8: per-tap input pointers and
         * window offsets, per-row requantization constants, a padding row and
         * the level's weights group-major. */
        const int32_t taps = cp->kernel_h * cp->kernel_w;
        const int32_t fast = taps * (int32_t)(sizeof(const int8_t *) + sizeof(int32_t)) +
                             w->rows * (int32_t)sizeof(ks__rqf) + ((in->c + 3) & ~3) + taps * (w->rows + 3);
        return fast > size ? fast : size;
    }
    return size;
}

int32_t ks_depthwise_conv_f32_get_buffer_size(const ks_conv_params *cp, const ks_matrix *w, const ks_dims *in)
{
    (void)w;
    (void)in;
    return dw_size(cp);
}
