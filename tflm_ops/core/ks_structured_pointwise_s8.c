/*
 * Structured (prefix block) int8 rows over contiguous input vectors:
 * fully connected batches and 1x1 stride-1 unpadded convolutions (internal).
 *
 * Output channels run in pairs, outer; vectors (pixels / batches) inner.
 * A pair's two requantizers and biases are set up once, and each input word
 * (four channels) is loaded and sign-extended once for both rows:
 * per four channels one input load, two weight loads, six SXTB16 /
 * SXTAB16 and four SMLADs = eight MACs.
 */
#include "ks_dsp.h"
#include "ks_internal.h"
#include "ks_requant.h"

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
    const int32_t *mult = q->multiplier + qbase;
    const int8_t *shift = q->shift + qbase;
    const int8_t inactive = (int8_t)out_off;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(in_off);
#endif
    int32_t o;
    int32_t p;

    for (o = 0; o < ow; o += 2) {
        /* An odd last row pairs with itself; only its first result is kept. */
        const int32_t o1 = o + 1 < ow ? o + 1 : o;
        const int8_t *r0 = v + o * cols;
        const int8_t *r1 = v + o1 * cols;
        const int32_t b0 = bias != NULL ? bias[o] : 0;
        const int32_t b1 = bias != NULL ? bias[o1] : 0;
        const ks__rq q0 = ks__rq_make(mult[o], shift[o]);
        const ks__rq q1 = ks__rq_make(mult[o1], shift[o1]);
        const int8_t *xp = x;
        int8_t *yp = y + o;
        for (p = 0; p < nvec; ++p, xp += cols, yp += rows) {
            int32_t acc0 = b0;
            int32_t acc1 = b1;
            const int8_t *w0 = r0;
            const int8_t *w1 = r1;
            const int8_t *xi = xp;
            int32_t n = iw;
#if KS_HAVE_DSP
            while (n >= 4) {
                const uint32_t xv = ks__read_u32(xi);
                const uint32_t xe = ks__sxtab16(off2, xv);
                const uint32_t xo = ks__sxtab16_ror8(off2, xv);
                const uint32_t wv0 = ks__read_u32(w0);
                const uint32_t wv1 = ks__read_u32(w1);
                acc0 = ks__smlad(ks__sxtb16(wv0), xe, acc0);
                acc0 = ks__smlad(ks__sxtb16_ror8(wv0), xo, acc0);
                acc1 = ks__smlad(ks__sxtb16(wv1), xe, acc1);
                acc1 = ks__smlad(ks__sxtb16_ror8(wv1), xo, acc1);
                xi += 4;
                w0 += 4;
                w1 += 4;
                n -= 4;
            }
#endif
            while (n > 0) {
                const int32_t xv = (int32_t)*xi++ + in_off;
                acc0 = ks__wrap_add(acc0, (int32_t)*w0++ * xv);
                acc1 = ks__wrap_add(acc1, (int32_t)*w1++ * xv);
                --n;
            }
            yp[0] = ks__rq_apply(acc0, &q0, out_off, act_min, act_max);
            if (o1 != o) {
                yp[1] = ks__rq_apply(acc1, &q1, out_off, act_min, act_max);
            }
        }
    }
    for (o = ow; o < rows; ++o) {
        int8_t *yp = y + o;
        for (p = 0; p < nvec; ++p, yp += rows) {
            *yp = inactive;
        }
    }
}
