// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Sparse int8 1x1 convolution over contiguous pixels, output-channel outer
 * (internal; ks_conv_s8 calls it for 1x1, stride 1, unpadded layers whose
 * output has the input's spatial shape).
 *
 * Per output channel the level's entries, the requantizer and the folded
 * input offset are set up once:
 *     Σ w*(x + input_offset) + bias = Σ w*x + (bias + input_offset*Σw)
 * (exact in wrapping int32 arithmetic, so bit-identical to the per-pixel
 * loop), then the entries are swept over four pixels at a time: one index
 * and one weight load (D[o][column], format v4) serve four multiply-adds.  The requantization is
 * folded with that bias once per row (ks__rqf), and the row's pixel loop
 * is the one for its case (fast channel with the full int8 range or a
 * clamp, or the general requantizer), so no output tests it.
 */
#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

#define KS__PW_PIX 4

typedef struct {
    const ks_matrix *w;
    int32_t level;
    const int8_t *v;
    const void *idx;
    int32_t rows;
    int32_t C, npix;
    int32_t in_off;
    ks__epi8 e; /* no rqf table: each row folds its own */
} ks__pw_args;

/* One entry (BLK = 1: a block of columns c, c + 1) against four pixels.
 * The DSP build multiplies with SMLABB (int8 x int8 into the wrapping
 * int32 sum) as an intrinsic, which keeps GCC from pairing products and
 * running out of registers. */
#if KS_HAVE_DSP
#define KS__PW_MAC(acc, w, x) ((acc) = ks__smlabb((uint32_t)(w), (uint32_t)(int32_t)(x), (acc)))
#else
#define KS__PW_MAC(acc, w, x) ((acc) = ks__wrap_add((acc), (w) * (x)))
#endif
#define KS__PW_ENTRY(BLK)                                                      \
    do {                                                                       \
        const int32_t c_ = (1 + BLK) * (int32_t)*ip++;                         \
        const int32_t w0_ = vr[c_];                                            \
        KS__PW_MAC(a0, w0_, x0[c_]);                                           \
        KS__PW_MAC(a1, w0_, x1[c_]);                                           \
        KS__PW_MAC(a2, w0_, x2[c_]);                                           \
        KS__PW_MAC(a3, w0_, x3[c_]);                                           \
        if (BLK) {                                                             \
            const int32_t w1_ = vr[c_ + 1];                                    \
            const int32_t d_ = c_ + 1;                                         \
            KS__PW_MAC(a0, w1_, x0[d_]);                                       \
            KS__PW_MAC(a1, w1_, x1[d_]);                                       \
            KS__PW_MAC(a2, w1_, x2[d_]);                                       \
            KS__PW_MAC(a3, w1_, x3[d_]);                                       \
        }                                                                      \
    } while (0)

/* Row o's entries [ib, ie) over every pixel, four per step; f holds the
 * row's requantization with the folded bias, mode is a constant. */
#define KS__DEFINE_PW_PIXELS(NAME, ITYPE, BLK)                                 \
    static KS__ALWAYS_INLINE void NAME(const ks__pw_args *a, const ITYPE *ib, const ITYPE *ie, const int8_t *vr, \
                                       const int8_t *x, int8_t *y, int32_t o, const ks__rqf *f, int32_t mode) \
    {                                                                          \
        const int32_t C = a->C;                                                \
        const int32_t rows = a->rows;                                          \
        const int32_t out_off = a->e.out_off;                                  \
        const int32_t act_min = a->e.act_min;                                  \
        const int32_t act_max = a->e.act_max;                                  \
        const ks_quant_params *q = a->e.q;                                     \
        const int32_t qi = a->e.qbase + o;                                     \
        int32_t px;                                                            \
        int8_t *yp = y + o;                                                    \
        for (px = a->npix; px >= KS__PW_PIX; px -= KS__PW_PIX) {               \
            const int8_t *x0 = x;                                              \
            const int8_t *x1 = x0 + C;                                         \
            const int8_t *x2 = x1 + C;                                         \
            const int8_t *x3 = x2 + C;                                         \
            const ITYPE *ip = ib;                                              \
            int32_t a0 = 0;                                                    \
            int32_t a1 = 0;                                                    \
            int32_t a2 = 0;                                                    \
            int32_t a3 = 0;                                                    \
            int32_t v0;                                                        \
            int32_t v1;                                                        \
            int32_t v2;                                                        \
            int32_t v3;                                                        \
            while (ip != ie) {                                                 \
                KS__PW_ENTRY(BLK);                                             \
            }                                                                  \
            v0 = ks__rqf_out((uint32_t)a0, f, q, qi, out_off, act_min, act_max, mode); \
            v1 = ks__rqf_out((uint32_t)a1, f, q, qi, out_off, act_min, act_max, mode); \
            v2 = ks__rqf_out((uint32_t)a2, f, q, qi, out_off, act_min, act_max, mode); \
            v3 = ks__rqf_out((uint32_t)a3, f, q, qi, out_off, act_min, act_max, mode); \
            yp[0] = (int8_t)v0;                                                \
            yp[rows] = (int8_t)v1;                                             \
            yp[2 * rows] = (int8_t)v2;                                         \
            yp[3 * rows] = (int8_t)v3;                                         \
            x += KS__PW_PIX * C;                                               \
            yp += KS__PW_PIX * rows;                                           \
        }                                                                      \
        for (; px > 0; --px, x += C, yp += rows) {                             \
            const ITYPE *ip = ib;                                              \
            uint32_t acc = 0;                                                  \
            for (; ip != ie; ++ip) {                                           \
                const int32_t c_ = (1 + BLK) * (int32_t)*ip;                   \
                acc += (uint32_t)(vr[c_] * x[c_]);                             \
                if (BLK) {                                                     \
                    acc += (uint32_t)(vr[c_ + 1] * x[c_ + 1]);                 \
                }                                                              \
            }                                                                  \
            *yp = (int8_t)ks__rqf_out(acc, f, q, qi, out_off, act_min, act_max, mode); \
        }                                                                      \
    }

/* Output-channel outer: per row its entry range, Σw for the folded input
 * offset, its requantization, then its pixel loop for the row's mode. */
#define KS__DEFINE_PW(NAME, PIXELS, ITYPE, BLK)                                \
    KS__DEFINE_PW_PIXELS(PIXELS, ITYPE, BLK)                                   \
    static KS__NOINLINE void NAME(const ks__pw_args *a, const int8_t *x, int8_t *y) \
    {                                                                          \
        const ITYPE *idx = (const ITYPE *)a->idx;                              \
        const int8_t *v = a->v;                                                \
        const ks_quant_params *q = a->e.q;                                     \
        const int32_t full = a->e.act_min == -128 && a->e.act_max == 127;      \
        int32_t o;                                                             \
        for (o = 0; o < a->rows; ++o) {                                        \
            const int32_t qi = a->e.qbase + o;                                 \
            int32_t b;                                                         \
            int32_t e;                                                         \
            int32_t j;                                                         \
            uint32_t sw = 0;                                                   \
            int32_t beff;                                                      \
            ks__rqf f;                                                         \
            const int8_t *vr = v + o * a->C; /* row o of D (format v4) */      \
            ks__row_range(a->w, a->level, o, &b, &e);                          \
            for (j = b; j < e; ++j) {                                          \
                const int32_t c_ = (1 + BLK) * (int32_t)idx[j];                \
                sw += (uint32_t)(int32_t)vr[c_];                               \
                if (BLK) {                                                     \
                    sw += (uint32_t)(int32_t)vr[c_ + 1];                       \
                }                                                              \
            }                                                                  \
            beff = (int32_t)((q->bias != NULL ? (uint32_t)q->bias[qi] : 0u) + (uint32_t)a->in_off * sw); \
            f = ks__rqf_make(beff, q->multiplier[qi], q->shift[qi]);           \
            if (f.right <= 0) {                                                \
                PIXELS(a, idx + b, idx + e, vr, x, y, o, &f, KS__RQ_GENERAL); \
            } else if (full) {                                                 \
                PIXELS(a, idx + b, idx + e, vr, x, y, o, &f, KS__RQ_SSAT); \
            } else {                                                           \
                PIXELS(a, idx + b, idx + e, vr, x, y, o, &f, KS__RQ_CLAMP); \
            }                                                                  \
        }                                                                      \
    }

KS__DEFINE_PW(pw_csr_u8, pw_csr_u8_px, uint8_t, 0)
KS__DEFINE_PW(pw_csr_u16, pw_csr_u16_px, uint16_t, 0)
KS__DEFINE_PW(pw_blk_u8, pw_blk_u8_px, uint8_t, 1)
KS__DEFINE_PW(pw_blk_u16, pw_blk_u16_px, uint16_t, 1)

int32_t ks__sparse_pointwise_s8(const ks_matrix *w, int32_t level, const int8_t *x, int32_t npix,
                                const ks_quant_params *q, int32_t qbase, int8_t *y)
{
    const int32_t fmt = w->format;
    const int32_t is_block = KS__IS_BLOCK(fmt);
    ks__pw_args a;
    int32_t u8;

    if (KS__IS_STRUCTURED(fmt)) {
        ks__structured_pointwise_s8(w, level, x, npix, q, qbase, y);
        return 1;
    }
    if (is_block && (w->cols & 1)) {
        return 0; /* not handled: the caller uses the per-pixel rows */
    }
    {
        /* Dense levels go to ks__sparse_conv_s8 (q15 im2col, four pixels
         * per entry, SMLABB/SMLABT on column words), which is cheaper once
         * rows hold more than about 24 MACs (measured on Cortex-M4: 1x1
         * 14x14x64, nested_csr and row at 50 % density 0.91 against 0.94 of
         * CMSIS-NN dense, nested_block from 25 % density). */
        int32_t o;
        int32_t b;
        int32_t e;
        int32_t n = 0;
        for (o = 0; o < w->rows; ++o) {
            ks__row_range(w, level, o, &b, &e);
            n += e - b;
        }
        if ((is_block ? 2 * n : n) >= (is_block ? 12 : 24) * w->rows) {
            return 0;
        }
    }
    u8 = ks_index_is_u8(is_block ? w->cols / 2 : w->cols);
    a.w = w;
    a.level = level;
    a.v = (const int8_t *)w->values;
    a.idx = w->indices;
    a.rows = w->rows;
    a.C = w->cols;
    a.npix = npix;
    a.in_off = q->input_offset;
    ks__epi8_init(&a.e, NULL, q, qbase);
    if (is_block) {
        (u8 ? pw_blk_u8 : pw_blk_u16)(&a, x, y);
    } else if (KS__CSR_BUILT || KS_FORMAT_BUILT(KS_FORMAT_ROW)) {
        (u8 ? pw_csr_u8 : pw_csr_u16)(&a, x, y); /* row too (ks__row_range) */
    }
    return 1;
}
