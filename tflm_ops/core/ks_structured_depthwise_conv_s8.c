// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Structured int8 DepthwiseConv2D, depth multiplier 1, pixel-outer and four
 * channels at a time (internal; ks_depthwise_conv_s8 calls it for the
 * structured format).
 *
 * A structured depthwise level computes channels o < out_width[k] (= its
 * in_width[k]).  With the weights tap-major, TFLite's [kh][kw][C] (format
 * v3, option dense_top), a tap's weights of four consecutive channels are
 * one word, as are the pixel's four inputs: per tap two loads, SXTB16 /
 * SXTAB16 (the latter adding the input offset) and four SMLABB / SMLATT --
 * one multiply-accumulate instruction per MAC.  The level's weights are
 * first copied group-major ([channel group][tap][4], out_width*kh*kw bytes
 * per call, from the tap-major or the canonical [C][kh*kw] layout) so one
 * pointer walks them.
 *
 * Taps outside the image read a scratch row of C bytes holding
 * -input_offset, which contributes exactly 0, so border pixels run the same
 * loop.  Requantization constants are folded once per call (ks__rqf).
 *
 * Scratch (ks_depthwise_conv_s8_get_buffer_size): kh*kw tap pointers and
 * window offsets, rows ks__rqf, the padding row (C bytes, rounded up to 4)
 * and the group-major weights (kh*kw*(rows + 3) bytes).
 */
#include <string.h>

#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

typedef struct {
    const int8_t *wg;        /* weights group-major: [group][tap][4] */
    const ks__rqf *rqf;
    const ks_quant_params *q;
    int32_t qbase;
    int32_t taps, rows, ow;
    int32_t groups;  /* ow / 4 */
    int32_t partial; /* ow % 4 channels in one more group read as a whole word */
    int32_t scalar;  /* ow % 4 channels done one at a time (the word would pass C) */
    const int8_t *ws; /* scalar channels' weights: [channel][tap] */
    int32_t in_off, out_off, act_min, act_max;
} ks__sdw_ctx;

/* One tap of four channels: input word at t + xc, weight word at w. */
#if KS_HAVE_DSP
#define KS__SDW_TAP(t, w)                                                      \
    do {                                                                       \
        const uint32_t xv_ = ks__read_u32((t) + xc);                           \
        const uint32_t wv_ = ks__read_u32(w);                                  \
        const uint32_t xe_ = ks__sxtab16(off2, xv_);                           \
        const uint32_t xo_ = ks__sxtab16_ror8(off2, xv_);                      \
        const uint32_t we_ = ks__sxtb16(wv_);                                  \
        const uint32_t wo_ = ks__sxtb16_ror8(wv_);                             \
        a0 = (uint32_t)ks__smlabb(we_, xe_, (int32_t)a0);                      \
        a2 = (uint32_t)ks__smlatt(we_, xe_, (int32_t)a2);                      \
        a1 = (uint32_t)ks__smlabb(wo_, xo_, (int32_t)a1);                      \
        a3 = (uint32_t)ks__smlatt(wo_, xo_, (int32_t)a3);                      \
    } while (0)
#else
#define KS__SDW_TAP(t, w)                                                      \
    do {                                                                       \
        const int8_t *xp_ = (t) + xc;                                          \
        a0 += (uint32_t)((w)[0] * (xp_[0] + in_off));                          \
        a1 += (uint32_t)((w)[1] * (xp_[1] + in_off));                          \
        a2 += (uint32_t)((w)[2] * (xp_[2] + in_off));                          \
        a3 += (uint32_t)((w)[3] * (xp_[3] + in_off));                          \
    } while (0)
#endif

/* Every channel of one output pixel into y. */
static KS__ALWAYS_INLINE void ks__sdw_pixel_impl(const ks__sdw_ctx *x, const int8_t *const *tp0, int32_t pix,
                                                 int8_t *y, int32_t mode)
{
    const int8_t *const *tend = tp0 + x->taps;
    const int8_t *wp = x->wg;
    const int32_t out_off = x->out_off;
    const int32_t act_min = x->act_min;
    const int32_t act_max = x->act_max;
    const ks__rqf *rqf = x->rqf;
    const ks_quant_params *q = x->q;
    const int32_t qbase = x->qbase;
    const int32_t groups = x->groups;
    const int32_t partial = x->partial;
    const int32_t ng = groups + (partial > 0);
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(x->in_off);
#else
    const int32_t in_off = x->in_off;
#endif
    int32_t g;
    int32_t c = 0;
    for (g = 0; g < ng; ++g, c += 4) {
        const int32_t xc = pix + c;
        const int8_t *const *tp = tp0;
        uint32_t a0 = 0;
        uint32_t a1 = 0;
        uint32_t a2 = 0;
        uint32_t a3 = 0;
        int32_t v0;
        for (; tp != tend; ++tp, wp += 4) {
            KS__SDW_TAP(tp[0], wp);
        }
        v0 = ks__rqf_out(a0, &rqf[c], q, qbase + c, out_off, act_min, act_max, mode);
        if (g < groups) {
            const int32_t v1 = ks__rqf_out(a1, &rqf[c + 1], q, qbase + c + 1, out_off, act_min, act_max, mode);
            const int32_t v2 = ks__rqf_out(a2, &rqf[c + 2], q, qbase + c + 2, out_off, act_min, act_max, mode);
            const int32_t v3 = ks__rqf_out(a3, &rqf[c + 3], q, qbase + c + 3, out_off, act_min, act_max, mode);
            y[c] = (int8_t)v0;
            y[c + 1] = (int8_t)v1;
            y[c + 2] = (int8_t)v2;
            y[c + 3] = (int8_t)v3;
        } else {
            /* Partial group: lanes past out_width are computed from real
             * weights and inputs but neither requantized nor stored. */
            y[c] = (int8_t)v0;
            if (partial > 1) {
                y[c + 1] = (int8_t)ks__rqf_out(a1, &rqf[c + 1], q, qbase + c + 1, out_off, act_min, act_max, mode);
            }
            if (partial > 2) {
                y[c + 2] = (int8_t)ks__rqf_out(a2, &rqf[c + 2], q, qbase + c + 2, out_off, act_min, act_max, mode);
            }
        }
    }
    for (g = 0; g < x->scalar; ++g, ++c) {
        const int8_t *const *tp = tp0;
        const int8_t *ws = x->ws + g * x->taps;
        uint32_t a = 0;
        for (; tp != tend; ++tp, ++ws) {
            a += (uint32_t)(*ws * ((*tp)[pix + c] + x->in_off));
        }
        y[c] = (int8_t)ks__rqf_out(a, &rqf[c], q, qbase + c, out_off, act_min, act_max, mode);
    }
    if (x->ow < x->rows) {
        ks__fill_s8(y + x->ow, x->rows - x->ow, out_off);
    }
}

/* Every channel of n output pixels, the first at y: pixel i reads its tap
 * inputs at tp[t] + i * step (a run of interior pixels; n = 1 at the
 * border). */
static KS__ALWAYS_INLINE void ks__sdw_pixels_impl(const ks__sdw_ctx *x, const int8_t **tp0, int8_t *y, int32_t n,
                                                  int32_t step, int32_t mode)
{
    int32_t i;
    for (i = 0; i < n; ++i, y += x->rows) {
        ks__sdw_pixel_impl(x, tp0, i * step, y, mode);
    }
}

static KS__NOINLINE void ks__sdw_pixels_general(const ks__sdw_ctx *x, const int8_t **tp, int8_t *y, int32_t n,
                                                 int32_t step)
{
    ks__sdw_pixels_impl(x, tp, y, n, step, KS__RQ_GENERAL);
}

static KS__NOINLINE void ks__sdw_pixels_clamp(const ks__sdw_ctx *x, const int8_t **tp, int8_t *y, int32_t n,
                                               int32_t step)
{
    ks__sdw_pixels_impl(x, tp, y, n, step, KS__RQ_CLAMP);
}

static KS__NOINLINE void ks__sdw_pixels_ssat(const ks__sdw_ctx *x, const int8_t **tp, int8_t *y, int32_t n,
                                              int32_t step)
{
    ks__sdw_pixels_impl(x, tp, y, n, step, KS__RQ_SSAT);
}

int32_t ks__structured_depthwise_conv_s8(const ks_conv_params *cp, const ks_matrix *w, int32_t level,
                                         const ks_quant_params *q, int32_t qbase, const ks_dims *in,
                                         const int8_t *input, const ks_dims *out, int8_t *output, void *scratch)
{
    const int32_t C = in->c;
    const int32_t taps = cp->kernel_h * cp->kernel_w;
    const int32_t rows = w->rows;
    const int32_t ow = w->out_width[level];
    const int32_t H = in->h;
    const int32_t W = in->w;
    const int32_t span_h = (cp->kernel_h - 1) * cp->dilation_h;
    const int32_t span_w = (cp->kernel_w - 1) * cp->dilation_w;
    /* Pointers first: the widest alignment. */
    const int8_t **tp = (const int8_t **)scratch;
    int32_t *toff = (int32_t *)(tp + taps);
    ks__rqf *rqf = (ks__rqf *)(toff + taps);
    int8_t *pad = (int8_t *)(rqf + rows);
    int8_t *wg = pad + ((C + 3) & ~3);
    const int8_t *v = (const int8_t *)w->values;
    void (*pixels)(const ks__sdw_ctx *, const int8_t **, int8_t *, int32_t, int32_t);
    ks__sdw_ctx x;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t i;
    int32_t t;
    int32_t ky;
    int32_t kx;

    if (scratch == NULL || cp->depth_multiplier != 1) {
        return 0;
    }
    x.groups = ow >> 2;
    /* The last ow % 4 channels: one word when it stays within the pixel. */
    x.partial = (ow & 3) != 0 && (ow & ~3) + 4 <= C ? ow & 3 : 0;
    x.scalar = (ow & 3) != 0 && x.partial == 0 ? ow & 3 : 0;
    {
        /* The level's weights group-major, [group][tap][4 channels] (whole
         * last group when partial), then the scalar channels [c][tap]: one
         * pointer walks them.  Tap-major source: v[t*rows + o]; canonical:
         * v[o*taps + t]. */
        const int32_t nvec = 4 * (x.groups + (x.partial > 0));
        const int32_t ts = w->tap_major ? rows : 1;
        const int32_t os = w->tap_major ? 1 : taps;
        int8_t *d = wg;
        int32_t o;
        for (o = 0; o < nvec; o += 4) {
            for (t = 0; t < taps; ++t, d += 4) {
                d[0] = v[t * ts + o * os];
                d[1] = v[t * ts + (o + 1) * os];
                d[2] = v[t * ts + (o + 2) * os];
                d[3] = v[t * ts + (o + 3) * os];
            }
        }
        x.ws = d;
        for (o = nvec; o < nvec + x.scalar; ++o) {
            for (t = 0; t < taps; ++t) {
                *d++ = v[t * ts + o * os];
            }
        }
    }
    x.wg = wg;
    memset(pad, -q->input_offset, (size_t)C);
    for (i = 0; i < ow; ++i) {
        rqf[i] = ks__rqf_make(q->bias != NULL ? q->bias[qbase + i] : 0, q->multiplier[qbase + i],
                              q->shift[qbase + i]);
    }
    for (ky = 0, t = 0; ky < cp->kernel_h; ++ky) {
        for (kx = 0; kx < cp->kernel_w; ++kx, ++t) {
            toff[t] = (ky * cp->dilation_h * W + kx * cp->dilation_w) * C;
        }
    }
    x.rqf = rqf;
    x.q = q;
    x.qbase = qbase;
    x.taps = taps;
    x.rows = rows;
    x.ow = ow;
    x.in_off = q->input_offset;
    x.out_off = q->output_offset;
    x.act_min = q->act_min;
    x.act_max = q->act_max;
    switch (ks__rq_mode(rqf, ow, x.act_min, x.act_max)) {
    case KS__RQ_SSAT:
        pixels = ks__sdw_pixels_ssat;
        break;
    case KS__RQ_CLAMP:
        pixels = ks__sdw_pixels_clamp;
        break;
    default:
        pixels = ks__sdw_pixels_general;
        break;
    }

    for (b = 0; b < in->n; ++b) {
        const int8_t *img = input + (int32_t)b * H * W * C;
        int8_t *yb = output + (int32_t)b * out->h * out->w * rows;
        for (oy = 0; oy < out->h; ++oy) {
            const int32_t iy0 = oy * cp->stride_h - cp->pad_h;
            const int32_t rows_in = iy0 >= 0 && iy0 + span_h < H;
            int8_t *y = yb + oy * out->w * rows;
            ox = 0;
            while (ox < out->w) {
                const int32_t ix0 = ox * cp->stride_w - cp->pad_w;
                if (rows_in && ix0 >= 0 && ix0 + span_w < W) {
                    /* A run of interior pixels: one pointer table, moved
                     * along the row. */
                    const int8_t *org = img + (iy0 * W + ix0) * C;
                    int32_t n = 1;
                    while (ox + n < out->w && (ox + n) * cp->stride_w - cp->pad_w + span_w < W) {
                        ++n;
                    }
                    for (t = 0; t < taps; ++t) {
                        tp[t] = org + toff[t];
                    }
                    pixels(&x, tp, y + ox * rows, n, cp->stride_w * C);
                    ox += n;
                    continue;
                }
                for (ky = 0, t = 0; ky < cp->kernel_h; ++ky) {
                    const int32_t iy = iy0 + ky * cp->dilation_h;
                    for (kx = 0; kx < cp->kernel_w; ++kx, ++t) {
                        const int32_t ix = ix0 + kx * cp->dilation_w;
                        tp[t] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? img + (iy * W + ix) * C : pad;
                    }
                }
                pixels(&x, tp, y + ox * rows, 1, 0);
                ++ox;
            }
        }
    }
    return 1;
}
