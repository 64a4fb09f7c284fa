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

#define KS__FCP_RANGE_PTR(PTYPE)                                               \
    b = (int32_t)((const PTYPE *)pp)[0];                                       \
    e = (int32_t)((const PTYPE *)pp)[level + 1];                               \
    pp = (const PTYPE *)pp + L
#define KS__FCP_RANGE_ROW(PTYPE)                                               \
    b = o * stride;                                                            \
    e = b + count

/* Entries: one column each (nested_csr, row); four per step.  With DSP one
 * SMLABB per entry (an int16 input times a sign-extended int8 value). */
#if KS_HAVE_DSP
#define KS__FCP_MAC(vv, xv) (acc = ks__smlabb((uint32_t)(int32_t)(vv), (uint32_t)(xv), acc))
#else
#define KS__FCP_MAC(vv, xv) (acc = (int32_t)((uint32_t)acc + (uint32_t)((vv) * (xv))))
#endif
#define KS__FCP_CSR(ITYPE)                                                     \
    do {                                                                       \
        const ITYPE *ip = (const ITYPE *)idx + b;                              \
        const ITYPE *ie = (const ITYPE *)idx + e;                              \
        const int8_t *vr = v + o * cols;                                       \
        for (; ip + 4 <= ie; ip += 4) {                                        \
            const int32_t c0 = ip[0];                                          \
            const int32_t c1 = ip[1];                                          \
            const int32_t c2 = ip[2];                                          \
            const int32_t c3 = ip[3];                                          \
            KS__FCP_MAC(vr[c0], x16[c0]);                                      \
            KS__FCP_MAC(vr[c1], x16[c1]);                                      \
            KS__FCP_MAC(vr[c2], x16[c2]);                                      \
            KS__FCP_MAC(vr[c3], x16[c3]);                                      \
        }                                                                      \
        for (; ip < ie; ++ip) {                                                \
            const int32_t c0 = ip[0];                                          \
            KS__FCP_MAC(vr[c0], x16[c0]);                                      \
        }                                                                      \
    } while (0)

/* Entries: 1x2 blocks over columns 2i, 2i+1 (nested_block; even widths,
 * format v4).  With DSP a block is one halfword of D's row, whose two bytes
 * SXTB16 of (h | h << 8) spreads into the lanes of the block's input word
 * {x16[2i], x16[2i+1]}: one SMLAD per block. */
#if KS_HAVE_DSP
#define KS__FCP_BLK1(bi)                                                       \
    do {                                                                       \
        const int32_t b_ = (bi);                                               \
        const uint32_t vh_ = ks__read_u16(vr + 2 * b_);                        \
        acc = ks__smlad(ks__sxtb16(vh_ | (vh_ << 8)), x32[b_], acc);           \
    } while (0)
#define KS__FCP_BLOCK(ITYPE)                                                   \
    do {                                                                       \
        const ITYPE *ip = (const ITYPE *)idx + b;                              \
        const ITYPE *ie = (const ITYPE *)idx + e;                              \
        const int8_t *vr = v + o * cols;                                       \
        for (; ip + 4 <= ie; ip += 4) {                                        \
            KS__FCP_BLK1(ip[0]);                                               \
            KS__FCP_BLK1(ip[1]);                                               \
            KS__FCP_BLK1(ip[2]);                                               \
            KS__FCP_BLK1(ip[3]);                                               \
        }                                                                      \
        for (; ip < ie; ++ip) {                                                \
            KS__FCP_BLK1(ip[0]);                                               \
        }                                                                      \
    } while (0)
#else
#define KS__FCP_BLOCK(ITYPE)                                                   \
    do {                                                                       \
        const ITYPE *ip = (const ITYPE *)idx + b;                              \
        const ITYPE *ie = (const ITYPE *)idx + e;                              \
        const int8_t *vr = v + o * cols;                                       \
        for (; ip < ie; ++ip) {                                                \
            const int32_t c = 2 * (int32_t)ip[0];                              \
            acc = (int32_t)((uint32_t)acc + (uint32_t)(vr[c] * x16[c]) + (uint32_t)(vr[c + 1] * x16[c + 1])); \
        }                                                                      \
    } while (0)
#endif

#define KS__FCP_DEFINE(NAME, RANGE, PTYPE, ITYPE, ENTRIES)                     \
    static void NAME(const ks_plan *p, int32_t level, const int16_t *x16, int8_t *y) \
    {                                                                          \
        const int32_t base = p->qbase[level];                                  \
        const int8_t *v = (const int8_t *)p->w.values;                         \
        const void *idx = p->w.indices;                                        \
        const void *pp = p->w.ptr;                                             \
        const int32_t L = p->w.num_levels;                                     \
        const int32_t rows = p->w.rows;                                        \
        const int32_t cols = p->w.cols;                                        \
        const int32_t stride = p->rows_args.stride;                            \
        const int32_t count = p->count[level];                                 \
        const int32_t *bias = p->q.bias != NULL ? p->q.bias + base : NULL;     \
        const int32_t *mult = p->q.multiplier + base;                          \
        const int8_t *shift = p->q.shift + base;                               \
        const int32_t out_off = p->q.output_offset;                            \
        const int32_t act_min = p->q.act_min;                                  \
        const int32_t act_max = p->q.act_max;                                  \
        const uint32_t *x32 = (const uint32_t *)(const void *)x16;             \
        int32_t o;                                                             \
        (void)pp;                                                              \
        (void)L;                                                               \
        (void)stride;                                                          \
        (void)count;                                                           \
        (void)x32;                                                             \
        (void)cols;                                                            \
        for (o = 0; o < rows; ++o) {                                           \
            int32_t b;                                                         \
            int32_t e;                                                         \
            int32_t acc = bias != NULL ? bias[o] : 0;                          \
            RANGE(PTYPE);                                                      \
            ENTRIES(ITYPE);                                                    \
            y[o] = ks__fcp_out(acc, o, mult, shift, out_off, act_min, act_max); \
        }                                                                      \
    }

#endif /* KS_PLAN_FC_ROWS_H */
