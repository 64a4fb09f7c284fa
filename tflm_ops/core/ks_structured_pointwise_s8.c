// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Structured (prefix block) int8 rows over contiguous input vectors:
 * fully connected batches and 1x1 stride-1 unpadded convolutions (internal).
 *
 * Output channels run in pairs, outer; vectors (pixels / batches) inner.
 * A pair's two requantizers (folded with their biases, ks__rqf) are set up
 * once, and each input word (four channels) is loaded and sign-extended
 * once for both rows: per four channels one input load, two weight loads,
 * six SXTB16 / SXTAB16 and four SMLADs = eight MACs.
 */
#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

/* Rows r0, r1 against n int8 inputs (offset added per input word). */
static KS__ALWAYS_INLINE void ks__spw_mac2(const int8_t *r0, const int8_t *r1, const int8_t *xi, int32_t n,
                                          int32_t in_off, uint32_t *acc0, uint32_t *acc1)
{
    uint32_t a0 = 0;
    uint32_t a1 = 0;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(in_off);
    for (; n >= 4; n -= 4) {
        const uint32_t xv = ks__read_u32(xi);
        const uint32_t xe = ks__sxtab16(off2, xv);
        const uint32_t xo = ks__sxtab16_ror8(off2, xv);
        const uint32_t wv0 = ks__read_u32(r0);
        const uint32_t wv1 = ks__read_u32(r1);
        a0 = (uint32_t)ks__smlad(ks__sxtb16(wv0), xe, (int32_t)a0);
        a0 = (uint32_t)ks__smlad(ks__sxtb16_ror8(wv0), xo, (int32_t)a0);
        a1 = (uint32_t)ks__smlad(ks__sxtb16(wv1), xe, (int32_t)a1);
        a1 = (uint32_t)ks__smlad(ks__sxtb16_ror8(wv1), xo, (int32_t)a1);
        xi += 4;
        r0 += 4;
        r1 += 4;
    }
#endif
    for (; n > 0; --n) {
        const int32_t xv = (int32_t)*xi++ + in_off;
        a0 += (uint32_t)((int32_t)*r0++ * xv);
        a1 += (uint32_t)((int32_t)*r1++ * xv);
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* Rows r0 .. r0 + 3*cols against n int8 inputs: acc[0..3]. */
static KS__NOINLINE void ks__spw_mac4(const int8_t *r0, int32_t cols, const int8_t *xi, int32_t n, int32_t in_off,
                                     uint32_t *acc)
{
    const int8_t *r2 = r0 + 2 * cols;
    uint32_t a0 = 0;
    uint32_t a1 = 0;
    uint32_t a2 = 0;
    uint32_t a3 = 0;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(in_off);
    const int8_t *xe4 = xi + (n & ~3);
    while (xi != xe4) {
        const uint32_t xv = ks__read_u32(xi);
        const uint32_t xe = ks__sxtab16(off2, xv);
        const uint32_t xo = ks__sxtab16_ror8(off2, xv);
        uint32_t wv = ks__read_u32(r0);
        a0 = (uint32_t)ks__smlad(ks__sxtb16(wv), xe, (int32_t)a0);
        a0 = (uint32_t)ks__smlad(ks__sxtb16_ror8(wv), xo, (int32_t)a0);
        wv = ks__read_u32(r0 + cols);
        a1 = (uint32_t)ks__smlad(ks__sxtb16(wv), xe, (int32_t)a1);
        a1 = (uint32_t)ks__smlad(ks__sxtb16_ror8(wv), xo, (int32_t)a1);
        wv = ks__read_u32(r2);
        a2 = (uint32_t)ks__smlad(ks__sxtb16(wv), xe, (int32_t)a2);
        a2 = (uint32_t)ks__smlad(ks__sxtb16_ror8(wv), xo, (int32_t)a2);
        wv = ks__read_u32(r2 + cols);
        a3 = (uint32_t)ks__smlad(ks__sxtb16(wv), xe, (int32_t)a3);
        a3 = (uint32_t)ks__smlad(ks__sxtb16_ror8(wv), xo, (int32_t)a3);
        xi += 4;
        r0 += 4;
        r2 += 4;
    }
    n &= 3;
#endif
    for (; n > 0; --n) {
        const int32_t xv = (int32_t)*xi++ + in_off;
        a0 += (uint32_t)((int32_t)r0[0] * xv);
        a1 += (uint32_t)((int32_t)r0[cols] * xv);
        a2 += (uint32_t)((int32_t)r2[0] * xv);
        a3 += (uint32_t)((int32_t)r2[cols] * xv);
        ++r0;
        ++r2;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Accumulators (no bias) of n rows r, r + cols, ... over the first iw
 * inputs of x: four rows per input word, then a pair, then a single row
 * (paired with itself). */
void ks__structured_rows_acc_s8(const int8_t *r, int32_t cols, const int8_t *x, int32_t iw, int32_t in_off,
                                int32_t n, int32_t *acc)
{
    for (; n >= 4; n -= 4, r += 4 * cols, acc += 4) {
        ks__spw_mac4(r, cols, x, iw, in_off, (uint32_t *)acc);
    }
    if (n > 0) {
        uint32_t a0;
        uint32_t a1;
        ks__spw_mac2(r, n > 1 ? r + cols : r, x, iw, in_off, &a0, &a1);
        acc[0] = (int32_t)a0;
        if (n > 1) {
            acc[1] = (int32_t)a1;
        }
        if (n > 2) {
            ks__spw_mac2(r + 2 * cols, r + 2 * cols, x, iw, in_off, &a0, &a1);
            acc[2] = (int32_t)a0;
        }
    }
}

void ks__structured_pointwise_s8(const ks_matrix *w, int32_t level, const int8_t *x, int32_t nvec,
                                 const ks_quant_params *q, int32_t qbase, int8_t *y)
{
    const int8_t *v = (const int8_t *)w->values;
    const int32_t ow = w->out_width[level];
    const int32_t iw = w->in_width[level];
    const int32_t cols = w->cols;
    const int32_t rows = w->rows;
    const int32_t in_off = q->input_offset;
    const int32_t out_off = q->output_offset;
    const int32_t act_min = q->act_min;
    const int32_t act_max = q->act_max;
    const int32_t *bias = q->bias != NULL ? q->bias + qbase : NULL;
    int32_t o;
    int32_t p;

    /* Rows in fours (each input word extended once for four rows), then
     * pairs. */
    for (o = 0; o + 4 <= ow; o += 4) {
        ks__rqf f[4];
        const int8_t *xp = x;
        int8_t *yp = y + o;
        int32_t i;
        for (i = 0; i < 4; ++i) {
            f[i] = ks__rqf_make(bias != NULL ? bias[o + i] : 0, q->multiplier[qbase + o + i],
                                q->shift[qbase + o + i]);
        }
        for (p = 0; p < nvec; ++p, xp += cols, yp += rows) {
            uint32_t acc[4];
            ks__spw_mac4(v + o * cols, cols, xp, iw, in_off, acc);
            for (i = 0; i < 4; ++i) {
                yp[i] = (int8_t)ks__rqf_out(acc[i], &f[i], q, qbase + o + i, out_off, act_min, act_max,
                                            KS__RQ_GENERAL);
            }
        }
    }
    for (; o < ow; o += 2) {
        /* An odd last row pairs with itself; only its first result is kept. */
        const int32_t o1 = o + 1 < ow ? o + 1 : o;
        const ks__rqf f0 = ks__rqf_make(bias != NULL ? bias[o] : 0, q->multiplier[qbase + o], q->shift[qbase + o]);
        /* An odd last row needs no second requantizer (one FC output: the
         * per-call cost). */
        const ks__rqf f1 = o1 != o ? ks__rqf_make(bias != NULL ? bias[o1] : 0, q->multiplier[qbase + o1],
                                                  q->shift[qbase + o1])
                                   : f0;
        const int8_t *r0 = v + o * cols;
        const int8_t *r1 = v + o1 * cols;
        const int8_t *xp = x;
        int8_t *yp = y + o;
        for (p = 0; p < nvec; ++p, xp += cols, yp += rows) {
            uint32_t acc0;
            uint32_t acc1;
            ks__spw_mac2(r0, r1, xp, iw, in_off, &acc0, &acc1);
            /* General channels are rare: one test per output. */
            yp[0] = (int8_t)ks__rqf_out(acc0, &f0, q, qbase + o, out_off, act_min, act_max, KS__RQ_GENERAL);
            if (o1 != o) {
                yp[1] = (int8_t)ks__rqf_out(acc1, &f1, q, qbase + o1, out_off, act_min, act_max, KS__RQ_GENERAL);
            }
        }
    }
    if (ow < rows) {
        int8_t *yp = y + ow;
        for (p = 0; p < nvec; ++p, yp += rows) {
            ks__fill_s8(yp, rows - ow, out_off);
        }
    }
}
