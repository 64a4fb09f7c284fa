// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Structured int8 Conv2D through a q15 im2col, CMSIS-NN style (internal;
 * ks_conv_s8 calls it for the structured format with kh*kw > 1).
 *
 * A structured level reads the first in_width[k] input channels of every
 * tap of its first out_width[k] rows, in place (row stride kh*kw*C).  For
 * each pair of output pixels the level's inputs are copied once into q15
 * columns with the input offset added (padding becomes 0), and every active
 * row pair reuses them: a weight word (four int8) is sign-extended once for
 * both pixels, an input word once for both rows, 8 SMLADs per 16 MACs --
 * the blocking of CMSIS-NN's arm_nn_mat_mult_kernel_s8_s16, so a level
 * costs about its share of the dense layer.
 *
 * Column of one pixel, K elements in the weights' order:
 *  - in_width == C: the whole window, K = kh*kw*C (rows are contiguous);
 *  - else one run per tap of rp = in_width rounded up to 4 (needs rp <= C):
 *    the inputs of channels in_width..rp-1 are 0, so their weights, which
 *    exist, add nothing and every run is whole words.
 * The two pixels' columns are interleaved by groups of four, [group][pixel]
 * [4], so one pointer walks both; the DSP build stores a group's elements
 * in the order 0, 2, 1, 3, the lanes SXTB16 and SXTB16 ROR 8 give from a
 * weight word.  A K % 4 tail (contiguous case only) follows, [pixel][tail].
 *
 * Scratch (ks_conv_s8_get_buffer_size): per active row its folded
 * requantization (ks__rqf, made once per call), per tap its input offset
 * from the window origin, per column element its position in the
 * interleaved layout (contiguous case with C % 4 != 0), and the columns.
 *
 * Accumulation wraps modulo 2^32 like TFLM's int32 sums (SMLAD wraps; the C
 * path goes through uint32), so outputs are bit-exact with the reference.
 */
#include <string.h>

#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

/* Slot of element i (0..3) of a group: SXTB16 pairs bytes 0 and 2. */
#if KS_HAVE_DSP
#define KS__SC_SLOT(i) ((((i) & 1) << 1) | ((i) >> 1))
#else
#define KS__SC_SLOT(i) (i)
#endif

/* The row loop needs every register: kept out of line so that the pixel
 * loop's values do not push it onto the stack. */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC's first scheduling pass hoists all four input loads of a group and
 * then spills a pointer; without it the loop fits in registers. */
#define KS__SC_NOINLINE __attribute__((noinline, optimize("no-schedule-insns")))
#define KS__SC_INLINE __attribute__((always_inline)) inline
#elif defined(__GNUC__)
#define KS__SC_NOINLINE __attribute__((noinline))
#define KS__SC_INLINE __attribute__((always_inline)) inline
#else
#define KS__SC_NOINLINE
#define KS__SC_INLINE inline
#endif

typedef struct {
    /* im2col */
    const int8_t *img; /* current image */
    const int32_t *toff; /* per tap: input offset from the window origin */
    const int16_t *pos;  /* per element: slot in the interleaved layout, or NULL */
    int32_t H, W, C, iw;
    int32_t kh, kw, dh, dw, taps;
    int32_t span_h, span_w;
    int32_t in_off;
    uint32_t m02, m13; /* lanes of a partial group that hold inputs */
    int32_t rp;     /* elements per tap run (runs layout) */
    int32_t groups; /* whole groups of four per column */
    int32_t tail;   /* K % 4 (contiguous only) */
    /* rows */
    const int8_t *v;
    ks__epi8 e;
    int32_t cols, ow, rows;
    int32_t runs;  /* weight runs per row */
    int32_t rgroups; /* groups of four per run */
    int32_t wskip; /* weight bytes from a run's end to the next run */
} ks__sc_ctx;

/* One tap of the runs layout: iw inputs of pixel p (src, or padding when
 * NULL) into rp / 4 groups starting at d.  A partial last group reads the
 * whole word (channels iw..rp-1 exist since rp <= C) and masks the lanes
 * past iw to 0: m02 keeps elements 0 / 2, m13 elements 1 / 3. */
static KS__SC_INLINE void ks__sc_run(int16_t *d, const int8_t *src, int32_t full, int32_t part, uint32_t off2,
                                     uint32_t m02, uint32_t m13)
{
    int32_t j;
    for (j = full; j > 0; --j, d += 8, src += 4) {
#if KS_HAVE_DSP
        const uint32_t xv = ks__read_u32(src);
        const uint32_t ev = ks__sxtab16(off2, xv);
        const uint32_t od = ks__sxtab16_ror8(off2, xv);
        memcpy(d, &ev, sizeof ev);
        memcpy(d + 2, &od, sizeof od);
#else
        const int32_t in_off = (int16_t)off2;
        d[0] = (int16_t)(src[0] + in_off);
        d[1] = (int16_t)(src[1] + in_off);
        d[2] = (int16_t)(src[2] + in_off);
        d[3] = (int16_t)(src[3] + in_off);
#endif
    }
    if (part) {
#if KS_HAVE_DSP
        const uint32_t xv = ks__read_u32(src);
        const uint32_t ev = ks__sxtab16(off2, xv) & m02;
        const uint32_t od = ks__sxtab16_ror8(off2, xv) & m13;
        memcpy(d, &ev, sizeof ev);
        memcpy(d + 2, &od, sizeof od);
#else
        const int32_t in_off = (int16_t)off2;
        d[0] = (int16_t)(src[0] + in_off);
        d[1] = (int16_t)(m13 != 0 ? src[1] + in_off : 0);
        d[2] = (int16_t)((m02 >> 16) != 0 ? src[2] + in_off : 0);
        d[3] = 0;
#endif
    }
}

static KS__SC_INLINE void ks__sc_zero(int16_t *d, int32_t groups)
{
    const uint32_t z = 0;
    for (; groups > 0; --groups, d += 8) {
        memcpy(d, &z, sizeof z);
        memcpy(d + 2, &z, sizeof z);
    }
}

/* Every tap of a window inside the image (runs layout). */
static KS__SC_NOINLINE void ks__sc_fill_inside(int16_t *col, const int8_t *origin, const int32_t *toff,
                                               int32_t taps, int32_t step, int32_t full, int32_t part,
                                               uint32_t off2, uint32_t m02, uint32_t m13)
{
    const int32_t *tend = toff + taps;
    for (; toff != tend; ++toff, col += step) {
        ks__sc_run(col, origin + *toff, full, part, off2, m02, m13);
    }
}

/* Column of output pixel p whose window starts at input (iy0, ix0). */
static void ks__sc_fill(int16_t *col, const ks__sc_ctx *g, int32_t p, int32_t iy0, int32_t ix0)
{
    const int8_t *img = g->img;
    const int32_t *toff = g->toff;
    const int32_t H = g->H;
    const int32_t W = g->W;
    const int32_t kh = g->kh;
    const int32_t kw = g->kw;
    const int32_t inside = iy0 >= 0 && ix0 >= 0 && iy0 + g->span_h < H && ix0 + g->span_w < W;
    /* Offsets, not pointers: a border window's origin lies outside the image. */
    const int32_t origin = (iy0 * W + ix0) * g->C;
    int32_t t = 0;
    int32_t ky;
    int32_t kx;
    if (g->pos != NULL) {
        /* Contiguous with C % 4 != 0 (e.g. the 1-channel stem): element by
         * element through pixel p's position table. */
        const int16_t *pos = g->pos + p * g->taps * g->C;
        const int32_t C = g->C;
        const int32_t off = g->in_off;
        int32_t c;
        if (inside && C == 1) {
            for (t = 0; t < g->taps; ++t) {
                col[pos[t]] = (int16_t)(img[origin + toff[t]] + off);
            }
            return;
        }
        for (ky = 0; ky < kh; ++ky) {
            const int32_t iy = iy0 + ky * g->dh;
            for (kx = 0; kx < kw; ++kx, ++t) {
                const int32_t ix = ix0 + kx * g->dw;
                if (inside || (iy >= 0 && iy < H && ix >= 0 && ix < W)) {
                    const int8_t *src = img + (origin + toff[t]);
                    for (c = 0; c < C; ++c) {
                        col[*pos++] = (int16_t)(src[c] + off);
                    }
                } else {
                    for (c = 0; c < C; ++c) {
                        col[*pos++] = 0;
                    }
                }
            }
        }
        return;
    }
    {
        const int32_t full = g->iw >> 2;
        const int32_t part = g->iw & 3;
        const int32_t step = 2 * g->rp;
        const uint32_t off2 = (uint32_t)(uint16_t)g->in_off * 0x10001u;
        const uint32_t m02 = g->m02;
        const uint32_t m13 = g->m13;
        col += 4 * p;
        if (inside && g->taps == 1) {
            /* 1x1: one run, no tap loop. */
            ks__sc_run(col, img + origin, full, part, off2, m02, m13);
            return;
        }
        if (inside) {
            ks__sc_fill_inside(col, img + origin, toff, g->taps, step, full, part, off2, m02, m13);
            return;
        }
        /* Border window: zero every run, then fill the taps inside. */
        ks__sc_zero(col, g->groups);
        for (ky = 0; ky < kh; ++ky) {
            const int32_t iy = iy0 + ky * g->dh;
            if (iy < 0 || iy >= H) {
                t += kw;
                continue;
            }
            for (kx = 0; kx < kw; ++kx, ++t) {
                const int32_t ix = ix0 + kx * g->dw;
                if (ix >= 0 && ix < W) {
                    ks__sc_run(col + t * step, img + (origin + toff[t]), full, part, off2, m02, m13);
                }
            }
        }
    }
}

/* A row pair against a pixel pair: the rows' and the columns' next
 * elements and the four sums a<row><pixel>. */
typedef struct {
    const int8_t *r0;
    const int8_t *r1;
    const int16_t *c;
    uint32_t a00, a01, a10, a11;
} ks__sc_dot;

/* One group of four elements: rows r0, r1 against both pixels. */
#if KS_HAVE_DSP
#define KS__SC_GROUP(s)                                                        \
    do {                                                                       \
        const uint32_t k0_ = ks__read_u32((s)->r0);                            \
        const uint32_t k1_ = ks__read_u32((s)->r1);                            \
        uint32_t x0_ = ks__read_u32((s)->c);                                   \
        uint32_t x1_ = ks__read_u32((s)->c + 4);                               \
        uint32_t ke_ = ks__sxtb16(k0_);                                        \
        (s)->a00 = (uint32_t)ks__smlad(ke_, x0_, (int32_t)(s)->a00);           \
        (s)->a01 = (uint32_t)ks__smlad(ke_, x1_, (int32_t)(s)->a01);           \
        ke_ = ks__sxtb16(k1_);                                                 \
        (s)->a10 = (uint32_t)ks__smlad(ke_, x0_, (int32_t)(s)->a10);           \
        (s)->a11 = (uint32_t)ks__smlad(ke_, x1_, (int32_t)(s)->a11);           \
        x0_ = ks__read_u32((s)->c + 2);                                        \
        x1_ = ks__read_u32((s)->c + 6);                                        \
        ke_ = ks__sxtb16_ror8(k0_);                                            \
        (s)->a00 = (uint32_t)ks__smlad(ke_, x0_, (int32_t)(s)->a00);           \
        (s)->a01 = (uint32_t)ks__smlad(ke_, x1_, (int32_t)(s)->a01);           \
        ke_ = ks__sxtb16_ror8(k1_);                                            \
        (s)->a10 = (uint32_t)ks__smlad(ke_, x0_, (int32_t)(s)->a10);           \
        (s)->a11 = (uint32_t)ks__smlad(ke_, x1_, (int32_t)(s)->a11);           \
        (s)->r0 += 4;                                                          \
        (s)->r1 += 4;                                                          \
        (s)->c += 8;                                                           \
    } while (0)
#else
#define KS__SC_GROUP(s)                                                        \
    do {                                                                       \
        int32_t i_;                                                            \
        for (i_ = 0; i_ < 4; ++i_) {                                           \
            const int32_t w0_ = (s)->r0[i_];                                   \
            const int32_t w1_ = (s)->r1[i_];                                   \
            (s)->a00 += (uint32_t)(w0_ * (s)->c[i_]);                          \
            (s)->a01 += (uint32_t)(w0_ * (s)->c[4 + i_]);                      \
            (s)->a10 += (uint32_t)(w1_ * (s)->c[i_]);                          \
            (s)->a11 += (uint32_t)(w1_ * (s)->c[4 + i_]);                      \
        }                                                                      \
        (s)->r0 += 4;                                                          \
        (s)->r1 += 4;                                                          \
        (s)->c += 8;                                                           \
    } while (0)
#endif

/* Steps of the row loop, forced inline into it (they run per row pair):
 * the weights as one run, as one run per tap, the K % 4 tail, the stores. */

/* One run (in_width == C, or a 1x1 window): the whole column, no run loop. */
static KS__SC_INLINE void ks__sc_single(ks__sc_dot *s, int32_t rgroups)
{
    const int16_t *ce = s->c + 8 * rgroups;
    while (s->c != ce) {
        KS__SC_GROUP(s);
    }
}

/* One run per tap, rgroups groups each, wskip weight bytes between runs;
 * short runs (a few channels per tap) unrolled: no loop test. */
static KS__SC_INLINE void ks__sc_runs(ks__sc_dot *s, int32_t runs, int32_t rgroups, int32_t wskip)
{
    int32_t r;
    for (r = runs; r > 0; --r) {
        switch (rgroups) {
        case 4:
            KS__SC_GROUP(s);
            /* fall through */
        case 3:
            KS__SC_GROUP(s);
            /* fall through */
        case 2:
            KS__SC_GROUP(s);
            /* fall through */
        case 1:
            KS__SC_GROUP(s);
            break;
        default:
            ks__sc_single(s, rgroups);
            break;
        }
        s->r0 += wskip;
        s->r1 += wskip;
    }
}

/* K % 4 = 1..3 last elements, [pixel][tail] (contiguous case). */
static KS__SC_INLINE void ks__sc_tail(ks__sc_dot *s, int32_t tail)
{
    const int8_t *r0 = s->r0;
    const int8_t *r1 = s->r1;
    const int16_t *c = s->c;
    int32_t w0 = r0[0];
    int32_t w1 = r1[0];
    s->a00 += (uint32_t)(w0 * c[0]);
    s->a01 += (uint32_t)(w0 * c[tail]);
    s->a10 += (uint32_t)(w1 * c[0]);
    s->a11 += (uint32_t)(w1 * c[tail]);
    if (tail > 1) {
        w0 = r0[1];
        w1 = r1[1];
        s->a00 += (uint32_t)(w0 * c[1]);
        s->a01 += (uint32_t)(w0 * c[tail + 1]);
        s->a10 += (uint32_t)(w1 * c[1]);
        s->a11 += (uint32_t)(w1 * c[tail + 1]);
        if (tail > 2) {
            w0 = r0[2];
            w1 = r1[2];
            s->a00 += (uint32_t)(w0 * c[2]);
            s->a01 += (uint32_t)(w0 * c[tail + 2]);
            s->a10 += (uint32_t)(w1 * c[2]);
            s->a11 += (uint32_t)(w1 * c[tail + 2]);
        }
    }
}

/* Outputs of rows o, o1 for both pixels (an odd last row pairs with itself:
 * only its first result is stored). */
static KS__SC_INLINE void ks__sc_store(const ks__sc_dot *s, const ks__epi8 *e, int32_t o, int32_t o1, int8_t *y0,
                                       int8_t *y1, int32_t mode)
{
    const int32_t v01 = ks__rqf_out(s->a01, &e->rqf[o], e->q, e->qbase + o, e->out_off, e->act_min, e->act_max, mode);
    const int32_t v00 = ks__rqf_out(s->a00, &e->rqf[o], e->q, e->qbase + o, e->out_off, e->act_min, e->act_max, mode);
    if (o1 != o) {
        const int32_t v11 = ks__rqf_out(s->a11, &e->rqf[o1], e->q, e->qbase + o1, e->out_off, e->act_min,
                                        e->act_max, mode);
        const int32_t v10 = ks__rqf_out(s->a10, &e->rqf[o1], e->q, e->qbase + o1, e->out_off, e->act_min,
                                        e->act_max, mode);
        y1[o1] = (int8_t)v11;
        y0[o1] = (int8_t)v10;
    }
    /* y1 before y0: an odd last pixel has y1 == y0. */
    y1[o] = (int8_t)v01;
    y0[o] = (int8_t)v00;
}

/* Every active row pair against the pixel pair's columns (y1 may equal y0:
 * an odd last pixel's second column is a copy of its first). */
/* single: one run (in_width == C, or a 1x1 window), no run loop. */
static KS__SC_INLINE void ks__sc_rows_impl(const ks__sc_ctx *x, const int16_t *col, int8_t *y0, int8_t *y1,
                                           int32_t mode, int32_t single)
{
    const int32_t ow = x->ow;
    const int32_t cols = x->cols;
    const int32_t runs = x->runs;
    const int32_t rgroups = x->rgroups;
    const int32_t wskip = x->wskip;
    const int32_t tail = x->tail;
    const int8_t *v = x->v;
    /* A local copy: the int8 stores may alias the context. */
    const ks__epi8 e = x->e;
    int32_t o;
    for (o = 0; o < ow; o += 2) {
        /* An odd last row pairs with itself; only its first result is kept. */
        const int32_t o1 = o + 1 < ow ? o + 1 : o;
        ks__sc_dot s;
        s.r0 = v + o * cols;
        s.r1 = v + o1 * cols;
        s.c = col;
        s.a00 = 0;
        s.a01 = 0;
        s.a10 = 0;
        s.a11 = 0;
        if (single) {
            ks__sc_single(&s, rgroups);
        } else {
            ks__sc_runs(&s, runs, rgroups, wskip);
        }
        if (tail > 0) {
            ks__sc_tail(&s, tail);
        }
        ks__sc_store(&s, &e, o, o1, y0, y1, mode);
    }
}

/* The row loop for one requantization mode and run layout, out of line. */
#define KS__SC_DEFINE_ROWS(NAME, MODE, SINGLE)                                 \
    static KS__SC_NOINLINE void NAME(const ks__sc_ctx *x, const int16_t *col, int8_t *y0, int8_t *y1) \
    {                                                                          \
        ks__sc_rows_impl(x, col, y0, y1, MODE, SINGLE);                        \
    }

KS__SC_DEFINE_ROWS(ks__sc_rows_general_single, KS__RQ_GENERAL, 1)
KS__SC_DEFINE_ROWS(ks__sc_rows_general_runs, KS__RQ_GENERAL, 0)
KS__SC_DEFINE_ROWS(ks__sc_rows_clamp_single, KS__RQ_CLAMP, 1)
KS__SC_DEFINE_ROWS(ks__sc_rows_clamp_runs, KS__RQ_CLAMP, 0)
KS__SC_DEFINE_ROWS(ks__sc_rows_ssat_single, KS__RQ_SSAT, 1)
KS__SC_DEFINE_ROWS(ks__sc_rows_ssat_runs, KS__RQ_SSAT, 0)

typedef void (*ks__sc_rows_fn)(const ks__sc_ctx *, const int16_t *, int8_t *, int8_t *);

/* Steps of ks__structured_conv_s8, once per call: ks__sc_ctx_init,
 * ks__tap_offsets, ks__sc_slots, ks__sc_choose_rows, then ks__sc_sweep
 * over the pixel pairs. */

/* The call's geometry, level widths and column layout (0: a level whose
 * runs are not whole words, left to the row loop). */
static int32_t ks__sc_ctx_init(ks__sc_ctx *g, const ks_conv_params *cp, const ks_matrix *w, int32_t level,
                               const ks_quant_params *q, int32_t qbase, const ks_dims *in, ks__rqf *rqf,
                               const int32_t *toff)
{
    const int32_t C = in->c;
    const int32_t taps = cp->kernel_h * cp->kernel_w;
    const int32_t iw = w->in_width[level];
    const int32_t contiguous = iw == C;
    g->rp = contiguous ? C : (iw + 3) & ~3;
    if (!contiguous && g->rp > C) {
        return 0; /* no whole-word runs: the row loop handles it */
    }
    g->H = in->h;
    g->W = in->w;
    g->C = C;
    g->iw = iw;
    g->kh = cp->kernel_h;
    g->kw = cp->kernel_w;
    g->dh = cp->dilation_h;
    g->dw = cp->dilation_w;
    g->taps = taps;
    g->span_h = (g->kh - 1) * g->dh;
    g->span_w = (g->kw - 1) * g->dw;
    g->in_off = q->input_offset;
    g->toff = toff;
    g->pos = NULL;
    g->v = (const int8_t *)w->values;
    ks__epi8_init(&g->e, rqf, q, qbase);
    g->cols = w->cols;
    g->ow = w->out_width[level];
    g->rows = w->rows;
    g->groups = taps * g->rp / 4;
    g->tail = contiguous ? taps * C % 4 : 0;
    g->runs = contiguous ? 1 : taps;
    g->rgroups = contiguous ? g->groups : g->rp / 4;
    g->wskip = C - g->rp;
    /* Partial group of iw & 3 inputs: lanes {0, 2} and {1, 3} (DSP order;
     * the C build reads them as flags). */
    g->m02 = (iw & 3) == 3 ? 0xFFFFFFFFu : 0xFFFFu;
    g->m13 = (iw & 3) >= 2 ? 0xFFFFu : 0u;
    return 1;
}

/* Contiguous columns with C % 4 != 0 (e.g. the 1-channel stem) are filled
 * element by element: the slot of element e of pixel 0 (pos[e]) and of
 * pixel 1 (pos[K + e]). */
static void ks__sc_slots(ks__sc_ctx *g, int16_t *pos)
{
    const int32_t k = g->taps * g->C;
    const int32_t k4 = 4 * g->groups;
    int32_t i;
    if (g->iw != g->C || (g->C & 3) == 0) {
        return;
    }
    for (i = 0; i < k; ++i) {
        pos[i] = (int16_t)(i < k4 ? 8 * (i >> 2) + KS__SC_SLOT(i & 3) : 2 * k4 + (i - k4));
        pos[k + i] = (int16_t)(pos[i] + (i < k4 ? 4 : g->tail));
    }
    g->pos = pos;
}

/* The active rows' requantization, folded once per call, picks the row
 * loop: a mode that every row allows, and the run layout. */
static ks__sc_rows_fn ks__sc_choose_rows(const ks__sc_ctx *g, ks__rqf *rqf)
{
    ks__rqf_table(rqf, g->e.q, g->e.qbase, g->ow);
    switch (ks__rq_mode(rqf, g->ow, g->e.act_min, g->e.act_max)) {
    case KS__RQ_SSAT:
        return g->runs == 1 ? ks__sc_rows_ssat_single : ks__sc_rows_ssat_runs;
    case KS__RQ_CLAMP:
        return g->runs == 1 ? ks__sc_rows_clamp_single : ks__sc_rows_clamp_runs;
    default:
        return g->runs == 1 ? ks__sc_rows_general_single : ks__sc_rows_general_runs;
    }
}

/* Every pair of output pixels, in order over the batch: both columns, the
 * row loop, and the inactive rows' outputs. */
static void ks__sc_sweep(ks__sc_ctx *g, const ks_conv_params *cp, const ks_dims *in, const int8_t *input,
                         const ks_dims *out, int8_t *output, int16_t *col, ks__sc_rows_fn rows_fn)
{
    const int32_t npix = out->h * out->w;
    const int32_t rows = g->rows;
    const int32_t ow = g->ow;
    int32_t b;
    int32_t i;
    for (b = 0; b < in->n; ++b) {
        int8_t *yb = output + (int32_t)b * npix * rows;
        int32_t oy = 0;
        int32_t ox = 0;
        g->img = input + (int32_t)b * in->h * in->w * in->c;
        for (i = 0; i < npix; i += 2) {
            int8_t *y0 = yb + i * rows;
            int8_t *y1 = y0;
            const int32_t iy0 = oy * cp->stride_h - cp->pad_h;
            const int32_t ix0 = ox * cp->stride_w - cp->pad_w;
            ks__sc_fill(col, g, 0, iy0, ix0);
            if (++ox == out->w) {
                ox = 0;
                ++oy;
            }
            if (i + 1 < npix) {
                ks__sc_fill(col, g, 1, oy * cp->stride_h - cp->pad_h, ox * cp->stride_w - cp->pad_w);
                y1 = y0 + rows;
                if (++ox == out->w) {
                    ox = 0;
                    ++oy;
                }
            } else {
                ks__sc_fill(col, g, 1, iy0, ix0);
            }
            rows_fn(g, col, y0, y1);
            if (ow < rows) {
                ks__fill_s8(y0 + ow, rows - ow, g->e.out_off);
                ks__fill_s8(y1 + ow, rows - ow, g->e.out_off);
            }
        }
    }
}

int32_t ks__structured_conv_s8(const ks_conv_params *cp, const ks_matrix *w, int32_t level,
                               const ks_quant_params *q, int32_t qbase, const ks_dims *in,
                               const int8_t *input, const ks_dims *out, int8_t *output, void *scratch)
{
    const int32_t taps = cp->kernel_h * cp->kernel_w;
    ks__rqf *rqf = (ks__rqf *)scratch;
    int32_t *toff = (int32_t *)(rqf + w->rows);
    int16_t *pos = (int16_t *)(toff + taps);
    int16_t *col = pos + 2 * taps * in->c;
    ks__sc_ctx g;

    if (scratch == NULL || w->in_width[level] < 1) {
        return 0;
    }
    if (!ks__sc_ctx_init(&g, cp, w, level, q, qbase, in, rqf, toff)) {
        return 0;
    }
    ks__tap_offsets(toff, cp, g.W, g.C);
    ks__sc_slots(&g, pos);
    ks__sc_sweep(&g, cp, in, input, out, output, col, ks__sc_choose_rows(&g, rqf));
    return 1;
}
