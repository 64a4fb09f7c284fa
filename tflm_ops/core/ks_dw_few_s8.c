// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * One depthwise output channel with at most three entries at the level,
 * every output pixel computed and requantized in one pass (internal; the
 * int8 depthwise body calls it after gathering the channel's entries).
 *
 * At high sparsity most depthwise channels keep one to three of their nine
 * taps.  The strip loop of the body (accumulate a strip tap by tap, then
 * requantize it) costs about as much per output row in set-up as the row's
 * few multiply-adds; here an interior run of a row is one loop with the
 * entries' input offsets and weights in registers: per pixel one to three
 * loads and multiply-adds, the requantization and a store.  The weights,
 * initial accumulators (bias, and for interior pixels the folded input
 * offset) and requantizer are the body's, prescaled as it documents, so
 * the results are the body's bit for bit.  Border pixels test each tap.
 */
#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

typedef struct {
    ks__rq rq;
    int32_t out_off, act_min, act_max;
} ks__dwf_out;

/* The body's requantization modes (ks_depthwise_conv_s8.c): 0 general, 1
 * fast with a clamp, 2 fast with the full int8 range (its proof applies).
 * Callers pass the constants as locals: the int8 stores may alias a
 * struct's fields. */
static KS__ALWAYS_INLINE int8_t ks__dwf_req(uint32_t acc, const ks__dwf_out *o, int32_t m2, int32_t rnd,
                                            int32_t right, int32_t out_off, int32_t act_min, int32_t act_max,
                                            int32_t mode)
{
    int32_t y;
    if (mode == 0) {
        return ks__rq_apply((int32_t)acc, &o->rq, out_off, act_min, act_max);
    }
    {
        const int32_t x = (int32_t)acc;
        int32_t hi;
#if KS_HAVE_DSP
        hi = ks__smmlar(x, m2, x);
#else
        hi = (int32_t)(((int64_t)x * (int64_t)(uint32_t)m2 + ((int64_t)1 << 31)) >> 32);
#endif
        y = (ks__rqf_qadd(hi, rnd - (int32_t)((uint32_t)hi >> 31)) >> right) + out_off;
    }
    if (mode == 2) {
        return (int8_t)ks__rqf_ssat8(y);
    }
    y = y < act_min ? act_min : y;
    return (int8_t)(y > act_max ? act_max : y);
}

#define KS__DWF_REQ(acc) ks__dwf_req((acc), o, m2, rnd, right, out_off, act_min, act_max, mode)
#define KS__DWF_LOCALS                                                         \
    const int32_t m2 = o->rq.m2;                                               \
    const int32_t rnd = o->rq.half + 1;                                        \
    const int32_t right = o->rq.right;                                         \
    const int32_t out_off = o->out_off;                                        \
    const int32_t act_min = o->act_min;                                        \
    const int32_t act_max = o->act_max

/* An interior run of m pixels: inputs at xp + rel[j], xp advancing by xs,
 * outputs at yp advancing by ys. */
static KS__ALWAYS_INLINE void ks__dwf_run(const int8_t *xp, int32_t xs, int8_t *yp, int32_t ys, int32_t m,
                                          const int32_t *rel, const int32_t *val, int32_t n, uint32_t init,
                                          const ks__dwf_out *o, int32_t mode)
{
    const int32_t r0 = rel[0];
    const uint32_t w0 = (uint32_t)val[0];
    KS__DWF_LOCALS;
    if (n == 0) {
        const int8_t c0 = KS__DWF_REQ(init);
        (void)xp;
        (void)xs;
        for (; m > 0; --m, yp += ys) {
            *yp = c0;
        }
    } else if (n == 1) {
        for (; m > 0; --m, xp += xs, yp += ys) {
            *yp = KS__DWF_REQ(init + w0 * (uint32_t)(int32_t)xp[r0]);
        }
    } else if (n == 2) {
        const int32_t r1 = rel[1];
        const uint32_t w1 = (uint32_t)val[1];
        for (; m > 0; --m, xp += xs, yp += ys) {
            *yp = KS__DWF_REQ(init + w0 * (uint32_t)(int32_t)xp[r0] + w1 * (uint32_t)(int32_t)xp[r1]);
        }
    } else {
        const int32_t r1 = rel[1];
        const int32_t r2 = rel[2];
        const uint32_t w1 = (uint32_t)val[1];
        const uint32_t w2 = (uint32_t)val[2];
        for (; m > 0; --m, xp += xs, yp += ys) {
            *yp = KS__DWF_REQ(init + w0 * (uint32_t)(int32_t)xp[r0] + w1 * (uint32_t)(int32_t)xp[r1] +
                              w2 * (uint32_t)(int32_t)xp[r2]);
        }
    }
}

static KS__ALWAYS_INLINE void ks__dwf_impl(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out,
                                           const int8_t *input_c, int8_t *output_o, int32_t rows, const int32_t *rel,
                                           const int32_t *val, const int32_t *tky, const int32_t *tkx, int32_t n,
                                           int32_t ox_lo, int32_t ox_hi, uint32_t border_init, uint32_t interior_init,
                                           int32_t in_off, const ks__dwf_out *o, int32_t mode)
{
    const int32_t H = in->h;
    const int32_t W = in->w;
    const int32_t C = in->c;
    const int32_t xs = cp->stride_w * C;
    KS__DWF_LOCALS;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t j;
    for (b = 0; b < in->n; ++b) {
        const int8_t *img = input_c + (int32_t)b * H * W * C;
        for (oy = 0; oy < out->h; ++oy) {
            const int32_t iy0 = oy * cp->stride_h - cp->pad_h;
            int8_t *y = output_o + (((int32_t)b * out->h + oy) * out->w) * rows;
            /* Entries whose row is inside the image; the others add 0 to
             * every pixel of this output row. */
            int32_t rrel[3];
            int32_t rval[3];
            int32_t m = 0;
            uint32_t sw = 0;
            for (j = 0; j < n; ++j) {
                const int32_t iy = iy0 + tky[j];
                if (iy >= 0 && iy < H) {
                    rrel[m] = rel[j];
                    rval[m++] = val[j];
                    sw += (uint32_t)val[j];
                }
            }
            if (ox_hi > ox_lo) {
                /* Interior columns: every kept entry inside, offset folded
                 * (the body's interior_init when every entry is kept). */
                const uint32_t init = m == n ? interior_init : border_init + (uint32_t)in_off * sw;
                ks__dwf_run(img + (iy0 * W + ox_lo * cp->stride_w - cp->pad_w) * C, xs, y + ox_lo * rows, rows,
                            ox_hi - ox_lo, rrel, rval, m, init, o, mode);
            }
            for (ox = 0; ox < out->w; ++ox) {
                const int32_t ix0 = ox * cp->stride_w - cp->pad_w;
                uint32_t acc = border_init;
                if (ox == ox_lo && ox_hi > ox_lo) {
                    ox = ox_hi - 1;
                    continue;
                }
                for (j = 0; j < n; ++j) {
                    const int32_t iy = iy0 + tky[j];
                    const int32_t ix = ix0 + tkx[j];
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                        acc += (uint32_t)val[j] * (uint32_t)((int32_t)img[(iy * W + ix) * C] + in_off);
                    }
                }
                y[ox * rows] = KS__DWF_REQ(acc);
            }
        }
    }
}

static KS__NOINLINE void ks__dwf_general(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out,
                                         const int8_t *input_c, int8_t *output_o, int32_t rows, const int32_t *rel,
                                         const int32_t *val, const int32_t *tky, const int32_t *tkx, int32_t n,
                                         int32_t ox_lo, int32_t ox_hi, uint32_t bi, uint32_t ii, int32_t in_off,
                                         const ks__dwf_out *o)
{
    ks__dwf_impl(cp, in, out, input_c, output_o, rows, rel, val, tky, tkx, n, ox_lo, ox_hi, bi, ii, in_off, o, 0);
}

static KS__NOINLINE void ks__dwf_clamp(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out,
                                       const int8_t *input_c, int8_t *output_o, int32_t rows, const int32_t *rel,
                                       const int32_t *val, const int32_t *tky, const int32_t *tkx, int32_t n,
                                       int32_t ox_lo, int32_t ox_hi, uint32_t bi, uint32_t ii, int32_t in_off,
                                       const ks__dwf_out *o)
{
    ks__dwf_impl(cp, in, out, input_c, output_o, rows, rel, val, tky, tkx, n, ox_lo, ox_hi, bi, ii, in_off, o, 1);
}

static KS__NOINLINE void ks__dwf_ssat(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out,
                                      const int8_t *input_c, int8_t *output_o, int32_t rows, const int32_t *rel,
                                      const int32_t *val, const int32_t *tky, const int32_t *tkx, int32_t n,
                                      int32_t ox_lo, int32_t ox_hi, uint32_t bi, uint32_t ii, int32_t in_off,
                                      const ks__dwf_out *o)
{
    ks__dwf_impl(cp, in, out, input_c, output_o, rows, rel, val, tky, tkx, n, ox_lo, ox_hi, bi, ii, in_off, o, 2);
}

int32_t ks__dw_few_s8(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out, const int8_t *input_c,
                      int8_t *output_o, int32_t rows, const int32_t *rel, const int32_t *val, const int32_t *tky,
                      const int32_t *tkx, int32_t n, int32_t ox_lo, int32_t ox_hi, const ks__rq *rq, int32_t mode,
                      int32_t border_init, int32_t interior_init, int32_t in_off, int32_t out_off, int32_t act_min,
                      int32_t act_max)
{
    ks__dwf_out o;
    if (n < 1 || n > 3) {
        return 0;
    }
    o.rq = *rq;
    o.out_off = out_off;
    o.act_min = act_min;
    o.act_max = act_max;
    (mode == 2 ? ks__dwf_ssat : mode == 1 ? ks__dwf_clamp : ks__dwf_general)(
        cp, in, out, input_c, output_o, rows, rel, val, tky, tkx, n, ox_lo, ox_hi, (uint32_t)border_init,
        (uint32_t)interior_init, in_off, &o);
    return 1;
}
