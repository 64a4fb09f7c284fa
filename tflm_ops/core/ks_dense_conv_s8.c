// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include <string.h>

#include "ks_dense_internal.h"

/* Pointer to the cols = kh*kw*C inputs of the window at (iy0, ix0), in the
 * weights' (ky, kx, ci) order: straight into the image for a 1x1 window
 * inside it, else copied into `buf` with out-of-image taps set to the
 * padding value (which contributes exactly 0 after the input offset). */
static const int8_t *ks__window(const ks_conv_params *cp, const int8_t *img, int32_t H, int32_t W, int32_t C,
                                int32_t iy0, int32_t ix0, int8_t pad, int8_t *buf)
{
    int32_t ky;
    int32_t kx;
    int8_t *dst = buf;
    if (cp->kernel_h == 1 && cp->kernel_w == 1 && iy0 >= 0 && iy0 < H && ix0 >= 0 && ix0 < W) {
        return img + (iy0 * W + ix0) * C;
    }
    for (ky = 0; ky < cp->kernel_h; ++ky) {
        const int32_t iy = iy0 + ky * cp->dilation_h;
        for (kx = 0; kx < cp->kernel_w; ++kx, dst += C) {
            const int32_t ix = ix0 + kx * cp->dilation_w;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                memcpy(dst, img + (iy * W + ix) * C, (size_t)C);
            } else {
                memset(dst, pad, (size_t)C);
            }
        }
    }
    return buf;
}

ks_status ks_dense_conv_s8(const ks_conv_params *cp, const int8_t *weights, const ks_dense_quant *q,
                           const ks_dims *in, const int8_t *input, const ks_dims *out, int8_t *output,
                           void *scratch)
{
    ks__dq e;
    int32_t cols;
    int32_t rows;
    int32_t stride;
    int8_t *buf[2];
    const int8_t *x[2];
    int8_t *y[2];
    int32_t pending = 0;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int8_t pad;
    ks_status s = ks__dense_conv_args(cp, weights, q, in, out);

    if (s != KS_OK) {
        return s;
    }
    if (out->c < 1) {
        return KS_ERR_ARG;
    }
    if ((int64_t)cp->kernel_h * cp->kernel_w * in->c > INT32_MAX / 4) {
        return KS_ERR_ARG;
    }
    stride = ks_dense_conv_s8_get_buffer_size(cp, in, out);
    if (stride > 0 && scratch == NULL) {
        return KS_ERR_ARG;
    }
    if (!ks__dense_buffers_ok(in, input, out, output)) {
        return KS_ERR_ARG;
    }
    e = ks__dq_make(q);
    cols = cp->kernel_h * cp->kernel_w * in->c;
    rows = out->c;
    pad = (int8_t)(-q->input_offset);

    if (ks__conv_1x1_direct(cp, in, out) && cp->stride_h == 1 && cp->stride_w == 1 && out->h == in->h &&
        out->w == in->w) {
        /* Every pixel is a contiguous input vector: a matrix product. */
        const int32_t n = in->n * in->h * in->w;
        int32_t i;
        for (i = 0; i + 1 < n; i += 2) {
            ks__dense_rows_s8(weights, rows, cols, input + i * cols, input + (i + 1) * cols, &e,
                              output + i * rows, output + (i + 1) * rows);
        }
        if (i < n) {
            ks__dense_rows_s8(weights, rows, cols, input + i * cols, NULL, &e, output + i * rows, NULL);
        }
        return KS_OK;
    }

    buf[0] = (int8_t *)scratch;
    buf[1] = buf[0] != NULL ? buf[0] + stride / 2 : NULL;
    for (b = 0; b < in->n; ++b) {
        const int8_t *img = input + (int32_t)b * in->h * in->w * in->c;
        for (oy = 0; oy < out->h; ++oy) {
            const int32_t iy0 = oy * cp->stride_h - cp->pad_h;
            for (ox = 0; ox < out->w; ++ox) {
                const int32_t ix0 = ox * cp->stride_w - cp->pad_w;
                x[pending] = ks__window(cp, img, in->h, in->w, in->c, iy0, ix0, pad, buf[pending]);
                y[pending] = output + (((int32_t)b * out->h + oy) * out->w + ox) * rows;
                if (++pending == 2) {
                    ks__dense_rows_s8(weights, rows, cols, x[0], x[1], &e, y[0], y[1]);
                    pending = 0;
                }
            }
        }
    }
    if (pending == 1) {
        ks__dense_rows_s8(weights, rows, cols, x[0], NULL, &e, y[0], NULL);
    }
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_conv_s8_unused;
#endif /* !KS_CMSIS_NN */
