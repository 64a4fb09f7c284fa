// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Sparse int8 Conv2D (nested_csr, nested_block, row) four output pixels per
 * weight entry (internal; ks_conv_s8 calls it for windows of more than one
 * tap).
 *
 * Per group of four output pixels the windows are copied once into a q15
 * im2col buffer with the input offset added (padding becomes 0), laid out
 * [column][pixel]: the four pixels' inputs of one weight column are two
 * words.  Every row then walks its level's entries once for all four
 * pixels: per entry one index load, one value load (D[o][column], format
 * v4: the values are the layer's dense weights), one doubleword load and
 * four SMLABB / SMLABT -- the index decoding that dominates a one-pixel
 * sparse loop is amortised over four outputs, as sparse convolution kernels
 * do.  A nested_block entry reads both of its columns' words and does eight
 * multiply-adds.  Requantization constants are folded once per call
 * (ks__rqf).  Bit-exact with the per-pixel loop: int32 accumulation wraps,
 * so the order of the terms does not matter.
 *
 * Scratch (ks_conv_s8_get_buffer_size): the four pixels' tap pointers,
 * per row its ks__rqf and level entry range, per tap its window offset, the
 * im2col buffer of kh*kw*C + 1 columns of four int16 (the extra column is
 * the zero an odd-width nested_block matrix's last block reads) and a
 * padding row of C bytes.
 */
#include <string.h>

#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

#define KS__SPC_PIX 4

typedef struct {
    /* im2col */
    const int8_t *img0; /* first image of the batch */
    const int32_t *toff;
    const int8_t *pad; /* C bytes of -input_offset */
    int32_t H, W, C, kh, kw, dh, dw, sh, sw, ph, pw, span_h, span_w, taps;
    int32_t OH, OW;
    int32_t in_off;
    /* rows */
    const int8_t *v;
    const void *idx;
    const int32_t *rng; /* per row: first and end entry of the level */
    int32_t rows, cols;
    ks__epi8 e;
} ks__spc_ctx;

/* Input of output pixel i (linear index over batch, rows, columns) at each
 * tap: the image, or the padding row (C bytes of -input_offset, which adds
 * exactly 0) for taps outside it. */
static void ks__spc_taps(const ks__spc_ctx *g, int32_t i, const int8_t **tp)
{
    const int32_t per_img = g->OH * g->OW;
    const int32_t b = i / per_img;
    const int32_t r = i - b * per_img;
    const int32_t oy = r / g->OW;
    const int32_t ox = r - oy * g->OW;
    const int32_t iy0 = oy * g->sh - g->ph;
    const int32_t ix0 = ox * g->sw - g->pw;
    const int8_t *img = g->img0 + b * g->H * g->W * g->C;
    int32_t t = 0;
    int32_t ky;
    int32_t kx;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + g->span_h < g->H && ix0 + g->span_w < g->W) {
        const int8_t *org = img + (iy0 * g->W + ix0) * g->C;
        for (t = 0; t < g->taps; ++t) {
            tp[t] = org + g->toff[t];
        }
        return;
    }
    for (ky = 0; ky < g->kh; ++ky) {
        const int32_t iy = iy0 + ky * g->dh;
        for (kx = 0; kx < g->kw; ++kx, ++t) {
            const int32_t ix = ix0 + kx * g->dw;
            tp[t] = (iy >= 0 && iy < g->H && ix >= 0 && ix < g->W) ? img + (iy * g->W + ix) * g->C : g->pad;
        }
    }
}

/* The four pixels' windows (tap inputs tp[p * taps + t]) into the q15
 * buffer, [column][pixel]: column k is the words {p0, p1}, {p2, p3}.  Per
 * four channels of two pixels: two input words, four SXTAB16 and four
 * PKHBT / PKHTB. */
static KS__NOINLINE void ks__spc_fill(uint32_t *col, const int8_t *const *tp, int32_t taps, int32_t C, int32_t in_off)
{
    int32_t t;
    int32_t h;
    for (h = 0; h < 2; ++h) {
        const int8_t *const *ta = tp + 2 * h * taps;
        const int8_t *const *tb = ta + taps;
        uint32_t *d = col + h;
        for (t = 0; t < taps; ++t) {
            const int8_t *sa = ta[t];
            const int8_t *sb = tb[t];
            int32_t c = 0;
#if KS_HAVE_DSP
            const uint32_t off2 = ks__dup16(in_off);
            for (; c + 4 <= C; c += 4, d += 8) {
                const uint32_t xa = ks__read_u32(sa + c);
                const uint32_t xb = ks__read_u32(sb + c);
                const uint32_t ae = ks__sxtab16(off2, xa);      /* {a0, a2} */
                const uint32_t ao = ks__sxtab16_ror8(off2, xa); /* {a1, a3} */
                const uint32_t be = ks__sxtab16(off2, xb);
                const uint32_t bo = ks__sxtab16_ror8(off2, xb);
                d[0] = (ae & 0xFFFFu) | (be << 16); /* {a0, b0} */
                d[2] = (ao & 0xFFFFu) | (bo << 16);
                d[4] = (ae >> 16) | (be & 0xFFFF0000u);
                d[6] = (ao >> 16) | (bo & 0xFFFF0000u);
            }
#endif
            for (; c < C; ++c, d += 2) {
                *d = (uint32_t)(uint16_t)(sa[c] + in_off) | ((uint32_t)(uint16_t)(sb[c] + in_off) << 16);
            }
        }
    }
}

/* Store the group's outputs of row o: all four, or the first n. */
#define KS__SPC_STORE(o)                                                       \
    do {                                                                       \
        const ks__rqf *f_ = &rqf[(o)];                                         \
        const int32_t v0_ = ks__rqf_out(a0, f_, q, qbase + (o), out_off, act_min, act_max, KS__RQ_GENERAL); \
        const int32_t v1_ = ks__rqf_out(a1, f_, q, qbase + (o), out_off, act_min, act_max, KS__RQ_GENERAL); \
        const int32_t v2_ = ks__rqf_out(a2, f_, q, qbase + (o), out_off, act_min, act_max, KS__RQ_GENERAL); \
        const int32_t v3_ = ks__rqf_out(a3, f_, q, qbase + (o), out_off, act_min, act_max, KS__RQ_GENERAL); \
        int8_t *yo_ = y + (o);                                                 \
        yo_[0] = (int8_t)v0_;                                                  \
        if (n > 1) {                                                           \
            yo_[rows] = (int8_t)v1_;                                           \
            if (n > 2) {                                                       \
                yo_[2 * rows] = (int8_t)v2_;                                   \
                if (n > 3) {                                                   \
                    yo_[3 * rows] = (int8_t)v3_;                               \
                }                                                              \
            }                                                                  \
        }                                                                      \
    } while (0)

/* Lanes of a column word as signed 16-bit values (C path). */
#define KS__SPC_LO(x) ((int32_t)(int16_t)(uint16_t)((x) & 0xFFFFu))
#define KS__SPC_HI(x) ((int32_t)(int16_t)(uint16_t)((x) >> 16))

/* One entry: weight wv of column index ci against the four pixels. */
#if KS_HAVE_DSP
#define KS__SPC_MAC(ci, wv)                                                    \
    do {                                                                       \
        const uint32_t *cp_ = col + 2 * (ci);                                  \
        const uint32_t x01_ = cp_[0];                                          \
        const uint32_t x23_ = cp_[1];                                          \
        const uint32_t w_ = (uint32_t)(wv);                                    \
        a0 = (uint32_t)ks__smlabb(w_, x01_, (int32_t)a0);                      \
        a1 = (uint32_t)ks__smlabt(w_, x01_, (int32_t)a1);                      \
        a2 = (uint32_t)ks__smlabb(w_, x23_, (int32_t)a2);                      \
        a3 = (uint32_t)ks__smlabt(w_, x23_, (int32_t)a3);                      \
    } while (0)
#else
#define KS__SPC_MAC(ci, wv)                                                    \
    do {                                                                       \
        const uint32_t *cp_ = col + 2 * (ci);                                  \
        const int32_t w_ = (wv);                                               \
        a0 += (uint32_t)(w_ * KS__SPC_LO(cp_[0]));                             \
        a1 += (uint32_t)(w_ * KS__SPC_HI(cp_[0]));                             \
        a2 += (uint32_t)(w_ * KS__SPC_LO(cp_[1]));                             \
        a3 += (uint32_t)(w_ * KS__SPC_HI(cp_[1]));                             \
    } while (0)
#endif

/* nested_csr / row entries, two per loop test; an entry's value is
 * D[o][column] (vr is row o of the dense weights, format v4). */
#define KS__SPC_ENTRIES()                                                      \
    do {                                                                       \
        if ((ie - ip) & 1) {                                                   \
            const int32_t c0_ = (int32_t)*ip;                                  \
            KS__SPC_MAC(c0_, vr[c0_]);                                         \
            ++ip;                                                              \
        }                                                                      \
        for (; ip != ie; ip += 2) {                                            \
            const int32_t c0_ = (int32_t)ip[0];                                \
            const int32_t c1_ = (int32_t)ip[1];                                \
            KS__SPC_MAC(c0_, vr[c0_]);                                         \
            KS__SPC_MAC(c1_, vr[c1_]);                                         \
        }                                                                      \
    } while (0)

/* Hides that vr1 = vr + 1 from GCC, which would otherwise fold it into the
 * index arithmetic instead of using two register-offset loads. */
#if defined(__GNUC__) && KS_HAVE_DSP
#define KS__SPC_OPAQUE(p) __asm__("" : "+r"(p))
#else
#define KS__SPC_OPAQUE(p) (void)(p)
#endif

/* nested_block entries: one address for both columns of a block (four
 * words: columns 2i and 2i+1 of the four pixels), eight SMLABB / SMLABT;
 * the values are D[o][2i], D[o][2i+1] (even widths, format v4). */
#if KS_HAVE_DSP
#define KS__SPC_BLOCKS()                                                       \
    do {                                                                       \
        for (; ip != ie; ++ip) {                                               \
            const int32_t bi_ = (int32_t)*ip;                                  \
            const uint32_t *cp_ = col + 4 * bi_;                               \
            /* Two register-offset loads (vr, vr + 1 by 2*bi): no address  \
             * arithmetic beyond the column's. */                            \
            const uint32_t w0_ = (uint32_t)(int32_t)vr[2 * bi_];               \
            const uint32_t w1_ = (uint32_t)(int32_t)vr1[2 * bi_];              \
            uint32_t x01_ = cp_[0];                                            \
            uint32_t x23_ = cp_[1];                                            \
            a0 = (uint32_t)ks__smlabb(w0_, x01_, (int32_t)a0);                 \
            a1 = (uint32_t)ks__smlabt(w0_, x01_, (int32_t)a1);                 \
            a2 = (uint32_t)ks__smlabb(w0_, x23_, (int32_t)a2);                 \
            a3 = (uint32_t)ks__smlabt(w0_, x23_, (int32_t)a3);                 \
            x01_ = cp_[2];                                                     \
            x23_ = cp_[3];                                                     \
            a0 = (uint32_t)ks__smlabb(w1_, x01_, (int32_t)a0);                 \
            a1 = (uint32_t)ks__smlabt(w1_, x01_, (int32_t)a1);                 \
            a2 = (uint32_t)ks__smlabb(w1_, x23_, (int32_t)a2);                 \
            a3 = (uint32_t)ks__smlabt(w1_, x23_, (int32_t)a3);                 \
        }                                                                      \
    } while (0)
#else
#define KS__SPC_BLOCKS()                                                       \
    do {                                                                       \
        for (; ip != ie; ++ip) {                                               \
            const int32_t ci_ = 2 * (int32_t)*ip;                              \
            KS__SPC_MAC(ci_, vr[ci_]);                                         \
            KS__SPC_MAC(ci_ + 1, vr[ci_ + 1]);                                 \
        }                                                                      \
    } while (0)
#endif

/* Every row against one group of four pixels (n of them real) whose
 * outputs start at y; row o's entries are [rng[2o], rng[2o+1]).  BLK = 1:
 * entry j covers columns 2*I[j], 2*I[j]+1. */
#define KS__DEFINE_SPC_ROWS(NAME, ITYPE, BLK)                                  \
    static KS__NOINLINE void NAME(const ks__spc_ctx *x, const uint32_t *col, int8_t *y, int32_t n) \
    {                                                                          \
        const int8_t *v = x->v;                                                \
        const ITYPE *idx = (const ITYPE *)x->idx;                              \
        const int32_t *rng = x->rng;                                           \
        const int32_t rows = x->rows;                                          \
        const int32_t cols = x->cols;                                          \
        const ks__rqf *rqf = x->e.rqf;                                         \
        const ks_quant_params *q = x->e.q;                                     \
        const int32_t qbase = x->e.qbase;                                      \
        const int32_t out_off = x->e.out_off;                                  \
        const int32_t act_min = x->e.act_min;                                  \
        const int32_t act_max = x->e.act_max;                                  \
        int32_t o;                                                             \
        for (o = 0; o < rows; ++o, rng += 2) {                                 \
            uint32_t a0 = 0;                                                   \
            uint32_t a1 = 0;                                                   \
            uint32_t a2 = 0;                                                   \
            uint32_t a3 = 0;                                                   \
            const ITYPE *ip = idx + rng[0];                                    \
            const ITYPE *ie = idx + rng[1];                                    \
            const int8_t *vr = v + o * cols;                                   \
            const int8_t *vr1 = vr + 1;                                        \
            KS__SPC_OPAQUE(vr1);                                               \
            if (BLK) {                                                         \
                KS__SPC_BLOCKS();                                              \
            } else {                                                           \
                KS__SPC_ENTRIES();                                             \
            }                                                                  \
            KS__SPC_STORE(o);                                                  \
        }                                                                      \
    }

KS__DEFINE_SPC_ROWS(spc_csr_u8, uint8_t, 0)
KS__DEFINE_SPC_ROWS(spc_csr_u16, uint16_t, 0)
KS__DEFINE_SPC_ROWS(spc_blk_u8, uint8_t, 1)
KS__DEFINE_SPC_ROWS(spc_blk_u16, uint16_t, 1)

typedef void (*ks__spc_rows_fn)(const ks__spc_ctx *, const uint32_t *, int8_t *, int32_t);

/* Steps of ks__sparse_conv_s8, once per call: ks__spc_choose_rows,
 * ks__spc_ctx_init, ks__tap_offsets, ks__spc_tables, then ks__spc_sweep
 * over the groups of four pixels. */

/* The row loop of the format and index width (NULL: a format this build
 * leaves out). */
static ks__spc_rows_fn ks__spc_choose_rows(const ks_matrix *w, int32_t K)
{
    const int32_t is_block = KS__IS_BLOCK(w->format);
    const int32_t u8 = ks_index_is_u8(is_block ? (K + 1) / 2 : K);
    if (is_block) {
        return u8 ? spc_blk_u8 : spc_blk_u16;
    }
    if (KS__CSR_BUILT || KS_FORMAT_BUILT(KS_FORMAT_ROW)) {
        return u8 ? spc_csr_u8 : spc_csr_u16; /* row too */
    }
    return NULL;
}

/* The call's geometry, level tables and output constants. */
static void ks__spc_ctx_init(ks__spc_ctx *g, const ks_conv_params *cp, const ks_matrix *w, const ks_quant_params *q,
                             int32_t qbase, const ks_dims *in, const int8_t *input, const ks_dims *out,
                             const int32_t *toff, const int8_t *pad, const int32_t *rng, const ks__rqf *rqf)
{
    g->img0 = input;
    g->toff = toff;
    g->pad = pad;
    g->H = in->h;
    g->W = in->w;
    g->C = in->c;
    g->kh = cp->kernel_h;
    g->kw = cp->kernel_w;
    g->dh = cp->dilation_h;
    g->dw = cp->dilation_w;
    g->sh = cp->stride_h;
    g->sw = cp->stride_w;
    g->ph = cp->pad_h;
    g->pw = cp->pad_w;
    g->span_h = (g->kh - 1) * g->dh;
    g->span_w = (g->kw - 1) * g->dw;
    g->taps = g->kh * g->kw;
    g->OH = out->h;
    g->OW = out->w;
    g->in_off = q->input_offset;
    g->v = (const int8_t *)w->values;
    g->idx = w->indices;
    g->rng = rng;
    g->rows = w->rows;
    g->cols = w->cols;
    ks__epi8_init(&g->e, rqf, q, qbase);
}

/* Per row its folded requantization and its level's entry range, in one
 * loop (every row runs: sparse levels keep all rows). */
static void ks__spc_tables(const ks_matrix *w, int32_t level, const ks_quant_params *q, int32_t qbase,
                           ks__rqf *rqf, int32_t *rng)
{
    int32_t i;
    for (i = 0; i < w->rows; ++i) {
        rqf[i] = ks__rqf_make(q->bias != NULL ? q->bias[qbase + i] : 0, q->multiplier[qbase + i],
                              q->shift[qbase + i]);
        ks__row_range(w, level, i, &rng[2 * i], &rng[2 * i + 1]);
    }
}

/* Every group of four output pixels (over the whole batch): tap pointers,
 * q15 columns, then every row; a short last group repeats its last pixel
 * (outputs not stored). */
static void ks__spc_sweep(const ks__spc_ctx *g, const int8_t **tp, uint32_t *col, int8_t *output, int32_t npix,
                          ks__spc_rows_fn rows_fn)
{
    const int32_t taps = g->taps;
    int32_t i;
    for (i = 0; i < npix; i += KS__SPC_PIX) {
        const int32_t n = npix - i < KS__SPC_PIX ? npix - i : KS__SPC_PIX;
        int32_t p;
        for (p = 0; p < KS__SPC_PIX; ++p) {
            ks__spc_taps(g, i + (p < n ? p : n - 1), tp + p * taps);
        }
        ks__spc_fill(col, tp, taps, g->C, g->in_off);
        rows_fn(g, col, output + i * g->rows, n);
    }
}

int32_t ks__sparse_conv_s8(const ks_conv_params *cp, const ks_matrix *w, int32_t level, const ks_quant_params *q,
                           int32_t qbase, const ks_dims *in, const int8_t *input, const ks_dims *out, int8_t *output,
                           void *scratch)
{
    const int32_t taps = cp->kernel_h * cp->kernel_w;
    const int32_t K = taps * in->c;
    const int32_t rows = w->rows;
    /* Pointers first: the widest alignment. */
    const int8_t **tp = (const int8_t **)scratch;
    ks__rqf *rqf = (ks__rqf *)(tp + KS__SPC_PIX * taps);
    int32_t *rng = (int32_t *)(rqf + rows);
    int32_t *toff = rng + 2 * rows;
    uint32_t *col = (uint32_t *)(toff + taps);
    int8_t *pad = (int8_t *)(col + 2 * (K + 1));
    ks__spc_rows_fn rows_fn;
    ks__spc_ctx g;

    if (scratch == NULL || KS__IS_STRUCTURED(w->format) || w->cols != K) {
        return 0;
    }
    rows_fn = ks__spc_choose_rows(w, K);
    if (rows_fn == NULL) {
        return 0;
    }
    ks__spc_ctx_init(&g, cp, w, q, qbase, in, input, out, toff, pad, rng, rqf);
    ks__tap_offsets(toff, cp, in->w, in->c);
    ks__spc_tables(w, level, q, qbase, rqf, rng);
    /* The column past K: what an odd-width matrix's last block multiplies
     * its zero second value with. */
    col[2 * K] = 0;
    col[2 * K + 1] = 0;
    memset(pad, -q->input_offset, (size_t)in->c);
    ks__spc_sweep(&g, tp, col, output, in->n * out->h * out->w, rows_fn);
    return 1;
}
