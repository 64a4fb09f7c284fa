// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"

/*
 * Pixel-outer: each output pixel lists its in-image taps once (input and
 * weight offsets in scratch), then every channel sums over that list, so
 * border pixels cost no per-channel tests and padded taps add nothing.
 */

/* Depth multiplier 1: four channels per pass, one word of inputs and one of
 * weights per tap feeding four halfword multiply-accumulates. */
static void ks__dw_mult1(const int8_t *px, const int8_t *weights, const int32_t *xoff, const int32_t *woff,
                         int32_t n, int32_t C, const ks__dq *e, int8_t *y)
{
    int32_t c = 0;
    int32_t t;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(e->in_off);
    for (; c + 4 <= C; c += 4) {
        int32_t a0 = 0;
        int32_t a1 = 0;
        int32_t a2 = 0;
        int32_t a3 = 0;
        const int8_t *xc = px + c;
        const int8_t *wc = weights + c;
        for (t = 0; t < n; ++t) {
            const uint32_t xi = ks__read_u32(xc + xoff[t]);
            const uint32_t wi = ks__read_u32(wc + woff[t]);
            const uint32_t x02 = ks__sxtab16(off2, xi);
            const uint32_t x13 = ks__sxtab16_ror8(off2, xi);
            const uint32_t w02 = ks__sxtb16(wi);
            const uint32_t w13 = ks__sxtb16_ror8(wi);
            a0 = ks__smlabb(x02, w02, a0);
            a2 = ks__smlatt(x02, w02, a2);
            a1 = ks__smlabb(x13, w13, a1);
            a3 = ks__smlatt(x13, w13, a3);
        }
        y[c] = ks__dq_out(a0, c, e);
        y[c + 1] = ks__dq_out(a1, c + 1, e);
        y[c + 2] = ks__dq_out(a2, c + 2, e);
        y[c + 3] = ks__dq_out(a3, c + 3, e);
    }
#endif
    for (; c < C; ++c) {
        uint32_t a = 0;
        for (t = 0; t < n; ++t) {
            a += (uint32_t)((px[xoff[t] + c] + e->in_off) * weights[woff[t] + c]);
        }
        y[c] = ks__dq_out((int32_t)a, c, e);
    }
}

static void ks__dw_multn(const int8_t *px, const int8_t *weights, const int32_t *xoff, const int32_t *woff,
                         int32_t n, int32_t C, int32_t mult, const ks__dq *e, int8_t *y)
{
    int32_t c;
    int32_t m;
    int32_t t;
    int32_t oc = 0;
    for (c = 0; c < C; ++c) {
        for (m = 0; m < mult; ++m, ++oc) {
            uint32_t a = 0;
            for (t = 0; t < n; ++t) {
                a += (uint32_t)((px[xoff[t] + c] + e->in_off) * weights[woff[t] + oc]);
            }
            y[oc] = ks__dq_out((int32_t)a, oc, e);
        }
    }
}

ks_status ks_dense_depthwise_conv_s8(const ks_conv_params *cp, const int8_t *weights, const ks_dense_quant *q,
                                     const ks_dims *in, const int8_t *input, const ks_dims *out, int8_t *output,
                                     void *scratch)
{
    ks__dq e;
    int32_t *xoff = (int32_t *)scratch;
    int32_t *woff;
    int32_t taps;
    int32_t C;
    int32_t OC;
    int32_t b;
    int32_t oy;
    int32_t ox;
    ks_status s = ks__dense_conv_args(cp, weights, q, in, out);

    if (s != KS_OK) {
        return s;
    }
    if (!ks__dense_dw_channels_ok(cp, in, out)) {
        return KS_ERR_ARG;
    }
    if ((int64_t)cp->kernel_h * cp->kernel_w > INT32_MAX / 8 || scratch == NULL) {
        return KS_ERR_ARG;
    }
    if (!ks__dense_buffers_ok(in, input, out, output)) {
        return KS_ERR_ARG;
    }
    e = ks__dq_make(q);
    taps = cp->kernel_h * cp->kernel_w;
    woff = xoff + taps;
    C = in->c;
    OC = out->c;
    for (b = 0; b < in->n; ++b) {
        const int8_t *img = input + (int32_t)b * in->h * in->w * C;
        for (oy = 0; oy < out->h; ++oy) {
            const int32_t iy0 = oy * cp->stride_h - cp->pad_h;
            for (ox = 0; ox < out->w; ++ox) {
                const int32_t ix0 = ox * cp->stride_w - cp->pad_w;
                int8_t *y = output + (((int32_t)b * out->h + oy) * out->w + ox) * OC;
                int32_t n = 0;
                int32_t ky;
                int32_t kx;
                for (ky = 0; ky < cp->kernel_h; ++ky) {
                    const int32_t iy = iy0 + ky * cp->dilation_h;
                    if (iy < 0 || iy >= in->h) {
                        continue;
                    }
                    for (kx = 0; kx < cp->kernel_w; ++kx) {
                        const int32_t ix = ix0 + kx * cp->dilation_w;
                        if (ix >= 0 && ix < in->w) {
                            xoff[n] = (iy * in->w + ix) * C;
                            woff[n] = (ky * cp->kernel_w + kx) * OC;
                            ++n;
                        }
                    }
                }
                if (cp->depth_multiplier == 1) {
                    ks__dw_mult1(img, weights, xoff, woff, n, C, &e, y);
                } else {
                    ks__dw_multn(img, weights, xoff, woff, n, C, cp->depth_multiplier, &e, y);
                }
            }
        }
    }
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_depthwise_conv_s8_unused;
#endif /* !KS_CMSIS_NN */
