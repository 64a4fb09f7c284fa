// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Sparse fully connected rows for plans (internal; ks_plan_fully_connected_s8).
 *
 * The input vector is widened once per batch to int16 with the input offset
 * added (x16[c] = x[c] + input_offset, |x16| <= 255), so an entry costs an
 * index load, an input load, a value load (D[o][column], format v4) and a
 * multiply-add; nested_block reads a block's two inputs as one word and
 * multiplies both with SMLAD.
 * The bias starts the accumulator (int32 addition wraps, so the order of the
 * terms does not change the result).  Bit-exact with ks__sparse_rows_s8.
 */
#ifndef KS_PLAN_FC_ROWS_H
#define KS_PLAN_FC_ROWS_H

#include "ks_dsp.h"
#include "ks_fast_internal.h"
#include "ks_internal.h"
#include "ks_requant.h"

/* x16[0..cols) = x + off, x16[cols] = 0 (the missing column of an odd-width
 * matrix's last block reads 0, so its value contributes nothing). */
static inline void ks__widen_s8(const int8_t *x, int32_t cols, int32_t off, int16_t *x16)
{
    int32_t c = 0;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(off);
    uint32_t *d = (uint32_t *)(void *)x16; /* scratch is 4-byte aligned */
    for (; c + 4 <= cols; c += 4) {
        const uint32_t w = ks__read_u32(x + c);
        const uint32_t lo = ks__sxtab16(off2, w);      /* {x0, x2} */
        const uint32_t hi = ks__sxtab16_ror8(off2, w); /* {x1, x3} */
        d[0] = (lo & 0xFFFFu) | (hi << 16);            /* {x0, x1} */
        d[1] = (lo >> 16) | (hi & 0xFFFF0000u);        /* {x2, x3} */
        d += 2;
    }
#endif
    for (; c < cols; ++c) {
        x16[c] = (int16_t)(x[c] + off);
    }
    x16[cols] = 0;
}

#if KS_HAVE_DSP && !(defined(KS_DSP_EMULATE) && KS_DSP_EMULATE)
static inline int32_t ks__fcp_qadd(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#else
static inline int32_t ks__fcp_qadd(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}
#endif

/*
 * One output of a row: the accumulator (bias included) requantized.  The
 * usual case (TFLite multipliers have |m| >= 2^30, shifts in [-23, 0]) is a
 * high multiply and a rounding shift: hi = SRDHM(a, |m|) = a + SMMLAR(a, M2)
 * (ks_requant.h), then TFLM's rounding divide (hi + 2^(r-1) - (hi < 0)) >> r
 * with a saturating add, which differs from the exact one only where both
 * clamp to act_max (the proof in ks_depthwise_conv_s8.c, mode 1).  Anything
 * else takes ks__rq_apply.
 */
/* The general requantizer, out of line: rare, and inlined it would keep the
 * row loop's registers busy (per-call cost). */
static KS__NOINLINE int8_t ks__fcp_out_general(int32_t acc, int32_t m, int32_t s, int32_t out_off, int32_t act_min,
                                               int32_t act_max)
{
    const ks__rq r = ks__rq_make(m, s);
    return ks__rq_apply(acc, &r, out_off, act_min, act_max);
}

static inline int8_t ks__fcp_out(int32_t acc, int32_t o, const int32_t *mult, const int8_t *shift, int32_t out_off,
                                 int32_t act_min, int32_t act_max)
{
    const int32_t m = mult[o];
    const int32_t s = shift[o];
#if !KS_SINGLE_ROUNDING
    const uint32_t am = m < 0 ? 0u - (uint32_t)m : (uint32_t)m;
    if (s <= 0 && s >= -23 && am >= 0x40000000u) {
        const int32_t a = m < 0 ? (int32_t)(0u - (uint32_t)acc) : acc;
        const int32_t right = -s;
        int32_t hi;
        int32_t y;
#if KS_HAVE_DSP
        hi = ks__smmlar(a, (int32_t)(am << 1), a);
#else
        /* 2|m| read unsigned: no correction term (SMMLAR reads it signed). */
        hi = (int32_t)(((int64_t)a * (int64_t)(am << 1) + ((int64_t)1 << 31)) >> 32);
#endif
        if (right > 0) {
            hi = ks__fcp_qadd(hi, (int32_t)((1u << (right - 1)) - ((uint32_t)hi >> 31))) >> right;
        }
        y = (int32_t)((uint32_t)hi + (uint32_t)out_off);
        y = y < act_min ? act_min : y;
        y = y > act_max ? act_max : y;
        return (int8_t)y;
    }
#endif
    return ks__fcp_out_general(acc, m, s, out_off, act_min, act_max);
}

/*
 * A run is split in two loops over chunks of KS__FC_CHUNK rows: one
 * accumulates the chunk's rows into an int32 array on the stack, the other
 * requantizes it (bias, multiplier, shift, offset, clamp).  Fused, the two
 * loops' pointers and constants did not fit in the registers and GCC spilled
 * around every row (~68 instructions of per-row overhead on M4 at 90 %
 * sparsity); split, each keeps its values in registers.
 */
#define KS__FC_CHUNK 64

/* One batch of a level: y[o] for every row o (rows >= 1), through chunks
 * of KS__FC_CHUNK accumulators on the stack. */
typedef void (*ks__fcr_fn)(const ks_plan *p, int32_t level, const int16_t *x16, int8_t *y);

/* One entry: one column (nested_csr, row).  With DSP one SMLABB (an int16
 * input times a sign-extended int8 value of D's row). */
#if KS_HAVE_DSP
#define KS__FCA_MAC(c) (s = ks__smlabb((uint32_t)(int32_t)vr[c], (uint32_t)(int32_t)x16[c], s))
#else
#define KS__FCA_MAC(c) (s = (int32_t)((uint32_t)s + (uint32_t)(vr[c] * x16[c])))
#endif

/* One entry: a 1x2 block over columns 2i, 2i+1 (nested_block; even widths,
 * format v4).  With DSP the block is one halfword of D's row, whose two
 * bytes SXTB16 of (h | h << 8) spreads into the lanes of the block's input
 * word {x16[2i], x16[2i+1]}: one SMLAD per block. */
#if KS_HAVE_DSP
#define KS__FCA_BLK(bi)                                                        \
    do {                                                                       \
        const int32_t b_ = (bi);                                               \
        const uint32_t vh_ = ks__read_u16(vr + 2 * b_);                        \
        s = ks__smlad(ks__sxtb16(vh_ | (vh_ << 8)), x32[b_], s);               \
    } while (0)
#else
#define KS__FCA_BLK(bi)                                                        \
    do {                                                                       \
        const int32_t c_ = 2 * (int32_t)(bi);                                  \
        s = (int32_t)((uint32_t)s + (uint32_t)(vr[c_] * x16[c_]) + (uint32_t)(vr[c_ + 1] * x16[c_ + 1])); \
    } while (0)
#endif

/* The entries [ip, ie) of one row into s: the remainder modulo 8 first (bit
 * tests, no loop), then eight entries per step. */
#define KS__FCA_ENTRIES(ONE)                                                   \
    do {                                                                       \
        const int32_t k_ = (int32_t)(ie - ip);                                 \
        if (k_ & 1) {                                                          \
            ONE(ip[0]);                                                        \
            ip += 1;                                                           \
        }                                                                      \
        if (k_ & 2) {                                                          \
            ONE(ip[0]);                                                        \
            ONE(ip[1]);                                                        \
            ip += 2;                                                           \
        }                                                                      \
        if (k_ & 4) {                                                          \
            ONE(ip[0]);                                                        \
            ONE(ip[1]);                                                        \
            ONE(ip[2]);                                                        \
            ONE(ip[3]);                                                        \
            ip += 4;                                                           \
        }                                                                      \
        for (; ip < ie; ip += 8) {                                             \
            ONE(ip[0]);                                                        \
            ONE(ip[1]);                                                        \
            ONE(ip[2]);                                                        \
            ONE(ip[3]);                                                        \
            ONE(ip[4]);                                                        \
            ONE(ip[5]);                                                        \
            ONE(ip[6]);                                                        \
            ONE(ip[7]);                                                        \
        }                                                                      \
    } while (0)

/* Requantizes n accumulators of the rows whose table entries start at
 * q's tables + off (the level's base + the first row). */
typedef void (*ks__fcq_fn)(const ks_quant_params *q, int32_t off, const int32_t *acc, int32_t n, int8_t *y);

/* Every channel of the level is "fast" (ks_plan.fc_fast, found at Prepare):
 * multiplier >= 2^30 (so positive) and shift in [-23, -1].  Then an output
 * is a + SMMLAR(a, 2m, a) (ks__fcp_out's fast case without the sign and
 * range tests) and TFLM's rounding divide by 2^right with a saturating add,
 * as in ks__fcp_out. */
static KS__ALWAYS_INLINE void ks__fcq_fast_impl(const ks_quant_params *q, int32_t off, const int32_t *acc,
                                                int32_t n, int8_t *y, int32_t has_bias)
{
    const int32_t *bias = q->bias + off;
    const int32_t *mult = q->multiplier + off;
    const int8_t *shift = q->shift + off;
    const int32_t out_off = q->output_offset;
    const int32_t act_min = q->act_min;
    const int32_t act_max = q->act_max;
    int8_t *const end = y + n;
    do {
        const int32_t a = has_bias ? (int32_t)((uint32_t)*acc++ + (uint32_t)*bias++) : *acc++;
        const int32_t m2 = (int32_t)((uint32_t)*mult++ << 1);
        const int32_t right = -(int32_t)*shift++;
        int32_t hi;
        int32_t v;
#if KS_HAVE_DSP
        hi = ks__smmlar(a, m2, a);
#else
        hi = (int32_t)(((int64_t)a * (int64_t)(uint32_t)m2 + ((int64_t)1 << 31)) >> 32);
#endif
        hi = ks__fcp_qadd(hi, (int32_t)((1u << (right - 1)) - ((uint32_t)hi >> 31))) >> right;
        v = (int32_t)((uint32_t)hi + (uint32_t)out_off);
        v = v < act_min ? act_min : v;
        v = v > act_max ? act_max : v;
        *y++ = (int8_t)v;
    } while (y != end);
}

static KS__NOINLINE void ks__fcq_fast(const ks_quant_params *q, int32_t off, const int32_t *acc, int32_t n,
                                      int8_t *y)
{
    if (q->bias != NULL) {
        ks__fcq_fast_impl(q, off, acc, n, y, 1);
    } else {
        ks__fcq_fast_impl(q, off, acc, n, y, 0);
    }
}

/* Any channel: ks__fcp_out per output. */
static KS__NOINLINE void ks__fcq_any(const ks_quant_params *q, int32_t off, const int32_t *acc, int32_t n,
                                     int8_t *y)
{
    const int32_t *bias = q->bias != NULL ? q->bias + off : NULL;
    int32_t o;
    for (o = 0; o < n; ++o) {
        const int32_t a = bias != NULL ? (int32_t)((uint32_t)acc[o] + (uint32_t)bias[o]) : acc[o];
        y[o] = ks__fcp_out(a, o, q->multiplier + off, q->shift + off, q->output_offset, q->act_min, q->act_max);
    }
}

/* The chunk loop around a row loop: ROW_SETUP once, ROW per row (sets s,
 * the row's sum without bias), then the chunk's requantization. */
#define KS__FCR_BODY(ROW_SETUP, ROW)                                           \
    int32_t acc[KS__FC_CHUNK];                                                 \
    const int32_t rows = p->w.rows;                                            \
    const int32_t cols = p->w.cols;                                            \
    const int8_t *vr = (const int8_t *)p->w.values;                            \
    int32_t o = 0;                                                             \
    ROW_SETUP;                                                                 \
    do {                                                                       \
        const int32_t n = rows - o < KS__FC_CHUNK ? rows - o : KS__FC_CHUNK;   \
        int32_t *a = acc;                                                      \
        int32_t *const end = acc + n;                                          \
        do {                                                                   \
            int32_t s = 0;                                                     \
            ROW;                                                               \
            *a++ = s;                                                          \
            vr += cols;                                                        \
        } while (a != end);                                                    \
        (((p->fc_fast >> level) & 1u) != 0 ? ks__fcq_fast : ks__fcq_any)(&p->q, p->qbase[level] + o, acc, n, \
                                                                        y + o); \
        o += n;                                                                \
    } while (o < rows)

/* nested_csr / nested_block: row r's level is [P[r*L], P[r*L + level + 1]). */
#define KS__FCR_DEFINE_PTR(NAME, PTYPE, ITYPE, ONE)                            \
    static KS__NOINLINE void NAME(const ks_plan *p, int32_t level, const int16_t *x16, int8_t *y) \
    {                                                                          \
        const uint32_t *x32 = (const uint32_t *)(const void *)x16;             \
        const int32_t L = p->w.num_levels;                                     \
        const ITYPE *idx = (const ITYPE *)p->w.indices;                        \
        const PTYPE *pp = (const PTYPE *)p->w.ptr;                             \
        (void)x32;                                                             \
        KS__FCR_BODY((void)0, {                                                \
            const ITYPE *ip = idx + pp[0];                                     \
            const ITYPE *ie = idx + pp[level + 1];                             \
            pp += L;                                                           \
            KS__FCA_ENTRIES(ONE);                                              \
        });                                                                    \
    }

/* row: every row has count[level] entries at stride positions. */
#define KS__FCR_DEFINE_ROW(NAME, ITYPE)                                        \
    static KS__NOINLINE void NAME(const ks_plan *p, int32_t level, const int16_t *x16, int8_t *y) \
    {                                                                          \
        const int32_t stride = p->rows_args.stride;                            \
        const int32_t count = p->count[level];                                 \
        const ITYPE *row = (const ITYPE *)p->w.indices;                        \
        KS__FCR_BODY((void)0, {                                                \
            const ITYPE *ip = row;                                             \
            const ITYPE *ie = row + count;                                     \
            KS__FCA_ENTRIES(KS__FCA_MAC);                                      \
            row += stride;                                                     \
        });                                                                    \
    }

/* Whether every channel of a level (its tables from row 0) takes the fast
 * requantization above. */
static inline int32_t ks__fcq_is_fast(const int32_t *mult, const int8_t *shift, int32_t rows)
{
#if KS_SINGLE_ROUNDING
    (void)mult;
    (void)shift;
    (void)rows;
    return 0;
#else
    int32_t o;
    for (o = 0; o < rows; ++o) {
        if (mult[o] < 0x40000000 || shift[o] > -1 || shift[o] < -23) {
            return 0;
        }
    }
    return 1;
#endif
}

#endif /* KS_PLAN_FC_ROWS_H */
