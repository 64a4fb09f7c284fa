// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Per-output-channel requantizer with its constants prepared once per row
 * (internal).  Bit-exact with ks__mbqm_signed() (TFLM
 * MultiplyByQuantizedMultiplier, double rounding, negative multipliers
 * negate the accumulator), for every int32 accumulator.
 *
 * Double rounding, per channel (m = |multiplier|, m < 2^31):
 *   a  = (sign ? -x : x) << left
 *   hi = floor((a*m + 2^30) / 2^31)   (SaturatingRoundingDoublingHighMul)
 *      = floor((a*2m + 2^31) / 2^32)
 *      = (m >= 2^30 ? a : 0) + floor((a*M2 + 2^31) / 2^32),  M2 = (int32)(2m)
 *        (2m >= 2^31 wraps to 2m - 2^32; a*2^32 moves out of the division)
 *      = SMMLAR(a, M2, a & amask): one DSP instruction plus an AND.
 *   y  = RoundingDivideByPOT(hi, right)
 *      = (hi >> right) + ((hi & mask) > half + (hi < 0))
 *     (mask = 2^right - 1, half = mask >> 1; no intermediate can overflow)
 * Without DSP the same steps run in 64-bit C.
 */
#ifndef KS_REQUANT_H
#define KS_REQUANT_H

#include <stdint.h>

#include "ks_dsp.h"
#include "ks_internal.h"

typedef struct ks__rq {
    int32_t neg;   /* 0, or -1 when the multiplier is negative */
    int32_t left;  /* left shift of the accumulator */
    int32_t m2;    /* (int32)(2*|multiplier|) */
    int32_t amask; /* -1 when |multiplier| >= 2^30, else 0 */
    int32_t mask;  /* 2^right - 1 */
    int32_t half;  /* mask >> 1 */
    int32_t right; /* right shift */
#if KS_SINGLE_ROUNDING
    int32_t mult;
    int32_t shift;
#endif
} ks__rq;

static inline ks__rq ks__rq_make(int32_t multiplier, int32_t shift)
{
    ks__rq r;
    /* INT32_MIN is refused by ks_validate_quant_params(); keep it defined. */
    const uint32_t m = multiplier < 0 ? 0u - (uint32_t)multiplier : (uint32_t)multiplier;
    r.neg = multiplier < 0 ? -1 : 0;
    r.left = shift > 0 ? shift : 0;
    r.right = shift > 0 ? 0 : -shift;
    r.m2 = (int32_t)(m << 1);
    r.amask = m >= 0x40000000u ? -1 : 0;
    r.mask = (int32_t)(((uint32_t)1 << r.right) - 1u);
    r.half = r.mask >> 1;
#if KS_SINGLE_ROUNDING
    r.mult = multiplier;
    r.shift = shift;
#endif
    return r;
}

static inline int32_t ks__rq_scale(int32_t x, const ks__rq *r)
{
#if KS_SINGLE_ROUNDING
    return ks__mbqm_signed(x, r->mult, r->shift);
#else
    const int32_t a = (int32_t)((((uint32_t)x ^ (uint32_t)r->neg) - (uint32_t)r->neg) << r->left);
    int32_t hi;
#if KS_HAVE_DSP
    hi = ks__smmlar(a, r->m2, a & r->amask);
#else
    hi = (int32_t)(((int64_t)a * (int64_t)(uint32_t)r->m2 + ((int64_t)1 << 31)) >> 32);
    (void)r->amask;
#endif
    return (hi >> r->right) + ((hi & r->mask) > r->half + (int32_t)((uint32_t)hi >> 31) ? 1 : 0);
#endif
}

static inline int8_t ks__rq_apply(int32_t x, const ks__rq *r, int32_t out_off, int32_t act_min,
                                  int32_t act_max)
{
    /* Wraps like TFLM's int32 add (only reachable with shift 0 and an
     * accumulator near INT32_MIN), without signed-overflow UB. */
    int32_t y = (int32_t)((uint32_t)ks__rq_scale(x, r) + (uint32_t)out_off);
    y = y < act_min ? act_min : y;
    y = y > act_max ? act_max : y;
    return (int8_t)y;
}

/*
 * A channel's requantization folded for loops that requantize many outputs
 * of few channels (structured conv / depthwise / FC).  Fast channels have
 * |multiplier| >= 2^30 and a right shift of 1..23 (so no left shift): the
 * multiplier's sign becomes a factor sc = ±1 applied with the bias in one
 * multiply-add (wrapping int32, so a = ±(acc + bias) bit for bit), and the
 * rounding divide is (hi + 2^(right-1) - (hi < 0)) >> right with a
 * saturating add: it saturates only for hi > INT32_MAX - 2^(right-1), where
 * the exact quotient 2^(31-right) >= 256 and the saturated one both clamp
 * to act_max (int8 outputs: out_off >= -128, act_max <= 127).
 * right < 0 marks a channel that needs ks__rq_apply (other shifts, small
 * multipliers, single rounding); its sc is 1 and bsc the plain bias.
 */
typedef struct ks__rqf {
    int32_t sc;    /* ±1 */
    int32_t bsc;   /* bias * sc */
    int32_t m2;    /* (int32)(2*|multiplier|) */
    int32_t rnd;   /* 2^(right-1) */
    int32_t right; /* 1..23, or -1: general path */
} ks__rqf;

static inline ks__rqf ks__rqf_make(int32_t bias, int32_t multiplier, int32_t shift)
{
    ks__rqf f;
#if KS_SINGLE_ROUNDING
    (void)multiplier;
    (void)shift;
    f.sc = 1;
    f.bsc = bias;
    f.m2 = 0;
    f.rnd = 0;
    f.right = -1;
#else
    /* |multiplier| without overflow (INT32_MIN is refused by validation). */
    const uint32_t neg = (uint32_t)(multiplier >> 31);
    const uint32_t m = ((uint32_t)multiplier ^ neg) - neg;
    if (m >= 0x40000000u && shift <= -1 && shift >= -23) {
        /* Fast: right shift only (left = 0), so sc = ±1. */
        f.sc = (int32_t)(neg | 1u);
        f.bsc = (int32_t)(((uint32_t)bias ^ neg) - neg);
        f.m2 = (int32_t)(m << 1);
        f.right = -shift;
        f.rnd = (int32_t)1 << (f.right - 1);
    } else {
        /* General channels keep the plain bias (ks__rq_apply folds nothing). */
        f.sc = 1;
        f.bsc = bias;
        f.m2 = 0;
        f.rnd = 0;
        f.right = -1;
    }
#endif
    return f;
}

#if KS_HAVE_DSP && !(defined(KS_DSP_EMULATE) && KS_DSP_EMULATE)
static inline int32_t ks__rqf_qadd(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t ks__rqf_ssat8(int32_t a)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(a));
    return r;
}
#else
static inline int32_t ks__rqf_ssat8(int32_t a)
{
    return a < -128 ? -128 : (a > 127 ? 127 : a);
}
static inline int32_t ks__rqf_qadd(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}
#endif

/* (acc + bias) requantized, before the output offset; fast channels only. */
static inline int32_t ks__rqf_scale(uint32_t acc, const ks__rqf *f)
{
    const int32_t a = (int32_t)(acc * (uint32_t)f->sc + (uint32_t)f->bsc);
    int32_t hi;
#if KS_HAVE_DSP
    hi = ks__smmlar(a, f->m2, a);
#else
    hi = (int32_t)(((int64_t)a * (int64_t)(uint32_t)f->m2 + ((int64_t)1 << 31)) >> 32);
#endif
    return ks__rqf_qadd(hi, f->rnd - (int32_t)((uint32_t)hi >> 31)) >> f->right;
}

#endif /* KS_REQUANT_H */
