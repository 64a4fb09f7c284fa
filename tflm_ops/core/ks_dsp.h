// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Optional Cortex-M DSP (SIMD32) helpers for the int8 loops.
 *
 *   KS_HAVE_DSP = 1 on cores with __ARM_FEATURE_DSP (M4, M7, M33 with DSP)
 *                 unless built with -DKS_NO_DSP, or anywhere with
 *                 -DKS_DSP_EMULATE=1 (portable C versions of the same
 *                 instructions, so host tests run the very loops the
 *                 target runs).
 *   KS_HAVE_DSP = 0 otherwise: the plain C loops are used.
 *
 * Lane conventions follow the instructions: sxtb16(x) = {b0, b2},
 * sxtb16_ror8(x) = {b1, b3}, sxtab16(a, x) = {a.lo + b0, a.hi + b2},
 * smlad(x, y, acc) = acc + x.lo*y.lo + x.hi*y.hi,
 * smlabb / smlatt(x, y, acc) = acc + x.lo*y.lo / acc + x.hi*y.hi,
 * smlabt(x, y, acc) = acc + x.lo*y.hi,
 * pkhbt16(a, b) = {a.lo, b.lo}, pkhtb16(a, b) = {b.hi, a.hi},
 * smmlar(x, y, acc) = acc + (x*y + 2^31) >> 32 (64-bit product).
 */
#ifndef KS_DSP_H
#define KS_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(KS_DSP_EMULATE) && KS_DSP_EMULATE
#define KS_HAVE_DSP 1

static inline uint32_t ks__lanes(int32_t lo, int32_t hi)
{
    return ((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16);
}
static inline int32_t ks__lo(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu);
}
static inline int32_t ks__hi(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x >> 16);
}
static inline int32_t ks__byte(uint32_t x, int n)
{
    return (int32_t)(int8_t)(uint8_t)(x >> (8 * n));
}
static inline uint32_t ks__sxtb16(uint32_t x)
{
    return ks__lanes(ks__byte(x, 0), ks__byte(x, 2));
}
static inline uint32_t ks__sxtb16_ror8(uint32_t x)
{
    return ks__lanes(ks__byte(x, 1), ks__byte(x, 3));
}
static inline uint32_t ks__sxtab16(uint32_t a, uint32_t x)
{
    return ks__lanes(ks__lo(a) + ks__byte(x, 0), ks__hi(a) + ks__byte(x, 2));
}
static inline uint32_t ks__sxtab16_ror8(uint32_t a, uint32_t x)
{
    return ks__lanes(ks__lo(a) + ks__byte(x, 1), ks__hi(a) + ks__byte(x, 3));
}
static inline int32_t ks__smlad(uint32_t x, uint32_t y, int32_t acc)
{
    /* The instruction wraps modulo 2^32 (and sets Q); so does this. */
    const uint32_t s = (uint32_t)acc + (uint32_t)(ks__lo(x) * ks__lo(y)) + (uint32_t)(ks__hi(x) * ks__hi(y));
    return (int32_t)s;
}
/* SMLABB / SMLATT: acc + bottom*bottom / top*top halfword products. */
static inline int32_t ks__smlabb(uint32_t x, uint32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(ks__lo(x) * ks__lo(y)));
}
static inline int32_t ks__smlatt(uint32_t x, uint32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(ks__hi(x) * ks__hi(y)));
}
static inline int32_t ks__smlabt(uint32_t x, uint32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(ks__lo(x) * ks__hi(y)));
}
/* PKHBT a, b, LSL #16 = {a.lo, b.lo}; PKHTB a, b, ASR #16 = {b.hi, a.hi}. */
static inline uint32_t ks__pkhbt16(uint32_t a, uint32_t b)
{
    return (a & 0xFFFFu) | (b << 16);
}
static inline uint32_t ks__pkhtb16(uint32_t a, uint32_t b)
{
    return (a & 0xFFFF0000u) | (b >> 16);
}
/* SMMLAR: (acc * 2^32 + x * y + 2^31) >> 32, low 32 bits. */
static inline int32_t ks__smmlar(int32_t x, int32_t y, int32_t acc)
{
    const int64_t p = (int64_t)x * (int64_t)y + ((int64_t)1 << 31);
    return (int32_t)((uint32_t)acc + (uint32_t)(int32_t)(p >> 32));
}

#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(KS_NO_DSP)
#define KS_HAVE_DSP 1

#include <arm_acle.h>

static inline uint32_t ks__sxtb16(uint32_t x)
{
    return (uint32_t)__sxtb16((int32_t)x);
}
/* The rotated forms are single instructions; GCC 12 does not fold a
 * separate rotate into them, hence the inline assembly. */
static inline uint32_t ks__sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline uint32_t ks__sxtab16(uint32_t a, uint32_t x)
{
    return (uint32_t)__sxtab16((int32_t)a, (int32_t)x);
}
static inline uint32_t ks__sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
static inline int32_t ks__smlad(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlad((int32_t)x, (int32_t)y, acc);
}
static inline int32_t ks__smlabb(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlabb((int32_t)x, (int32_t)y, acc);
}
static inline int32_t ks__smlatt(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlatt((int32_t)x, (int32_t)y, acc);
}
static inline int32_t ks__smlabt(uint32_t x, uint32_t y, int32_t acc)
{
    return __smlabt((int32_t)x, (int32_t)y, acc);
}
static inline uint32_t ks__pkhbt16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline uint32_t ks__pkhtb16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t ks__smmlar(int32_t x, int32_t y, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(acc));
    return r;
}

#else
#define KS_HAVE_DSP 0
#endif

#if KS_HAVE_DSP
/* Unaligned loads: fine on M4/M7 for LDR/LDRH; memcpy keeps C99 happy and
 * compiles to a single load. */
static inline uint32_t ks__read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline uint32_t ks__read_u16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
/* Both 16-bit input offsets in one word, for sxtab16. */
static inline uint32_t ks__dup16(int32_t v)
{
    return ((uint32_t)(uint16_t)v) | ((uint32_t)(uint16_t)v << 16);
}
#endif

#endif /* KS_DSP_H */
