// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Small helpers of the structured fast paths (internal).
 */
#ifndef KS_FAST_INTERNAL_H
#define KS_FAST_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "ks_dsp.h"
#include "ks_internal.h"
#include "ks_requant.h"

/* Loops that need every register are kept out of line, so that the outer
 * loops' values do not push them onto the stack; small helpers are forced
 * inline where a constant argument selects the code. */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC's first scheduling pass hoists every load of a loop body and then
 * spills pointers; without it these loops fit in registers. */
#define KS__NOINLINE __attribute__((noinline, optimize("no-schedule-insns")))
#define KS__ALWAYS_INLINE __attribute__((always_inline)) inline
#elif defined(__GNUC__)
#define KS__NOINLINE __attribute__((noinline))
#define KS__ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define KS__NOINLINE
#define KS__ALWAYS_INLINE inline
#endif

/* n bytes of v at y, a word at a time: newlib-nano's memset goes byte by
 * byte, and inactive structured channels are written at every pixel.
 * (Unaligned word stores are fine wherever the DSP path runs.) */
static inline void ks__fill_s8(int8_t *y, int32_t n, int32_t v)
{
#if KS_HAVE_DSP
    const uint32_t v4 = (uint32_t)(uint8_t)v * 0x01010101u;
    for (; n >= 8; n -= 8, y += 8) {
        memcpy(y, &v4, sizeof v4);
        memcpy(y + 4, &v4, sizeof v4);
    }
    if (n & 4) {
        memcpy(y, &v4, sizeof v4);
        y += 4;
    }
    /* No loop for the last bytes: GCC would turn it into a memset call. */
    if (n & 2) {
        y[0] = (int8_t)v;
        y[1] = (int8_t)v;
        y += 2;
    }
    if (n & 1) {
        y[0] = (int8_t)v;
    }
#else
    memset(y, v, (size_t)n);
#endif
}

/* Requantization of a call, chosen once: every active channel fast
 * (ks__rqf.right > 0) with the full int8 range (SSAT) or a clamp, or some
 * channel on the general requantizer (checked per output). */
#define KS__RQ_GENERAL 0
#define KS__RQ_CLAMP 1
#define KS__RQ_SSAT 2

static inline int32_t ks__rq_mode(const ks__rqf *f, int32_t n, int32_t act_min, int32_t act_max)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (f[i].right <= 0) {
            return KS__RQ_GENERAL;
        }
    }
    return act_min == -128 && act_max == 127 ? KS__RQ_SSAT : KS__RQ_CLAMP;
}

/* Output constants of a call that the fast kernels' row loops read: the
 * folded requantization table (NULL where a kernel folds per row), the
 * parameters the general requantizer reads, the output offset and range.
 * Row loops copy it into a local: int8 stores may alias the context. */
typedef struct {
    const ks__rqf *rqf;
    const ks_quant_params *q;
    int32_t qbase, out_off, act_min, act_max;
} ks__epi8;

static inline void ks__epi8_init(ks__epi8 *e, const ks__rqf *rqf, const ks_quant_params *q, int32_t qbase)
{
    e->rqf = rqf;
    e->q = q;
    e->qbase = qbase;
    e->out_off = q->output_offset;
    e->act_min = q->act_min;
    e->act_max = q->act_max;
}

/* Folded requantization of channels qbase .. qbase+n-1, once per call. */
static inline void ks__rqf_table(ks__rqf *f, const ks_quant_params *q, int32_t qbase, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        f[i] = ks__rqf_make(q->bias != NULL ? q->bias[qbase + i] : 0, q->multiplier[qbase + i], q->shift[qbase + i]);
    }
}

/* Per tap of the window (row-major), its input offset from the window's
 * origin in an image W pixels wide with C channels. */
static inline void ks__tap_offsets(int32_t *toff, const ks_conv_params *cp, int32_t W, int32_t C)
{
    /* Locals: the int32 stores may alias *cp. */
    const int32_t kh = cp->kernel_h;
    const int32_t kw = cp->kernel_w;
    const int32_t dh = cp->dilation_h;
    const int32_t dw = cp->dilation_w;
    int32_t ky;
    int32_t kx;
    int32_t i;
    for (ky = 0, i = 0; ky < kh; ++ky) {
        for (kx = 0; kx < kw; ++kx, ++i) {
            toff[i] = (ky * dh * W + kx * dw) * C;
        }
    }
}

/* Output of channel idx (table entry q->...[idx] for the general path)
 * from its raw accumulator; mode is a constant after inlining.  The int8
 * stores may alias anything, so callers keep f's table, out_off and the
 * clamp in locals. */
static KS__ALWAYS_INLINE int32_t ks__rqf_out(uint32_t acc, const ks__rqf *f, const ks_quant_params *q, int32_t idx,
                                             int32_t out_off, int32_t act_min, int32_t act_max, int32_t mode)
{
    int32_t y;
    if (mode == KS__RQ_GENERAL && f->right <= 0) {
        const ks__rq r = ks__rq_make(q->multiplier[idx], q->shift[idx]);
        return ks__rq_apply((int32_t)(acc + (uint32_t)f->bsc), &r, out_off, act_min, act_max);
    }
    y = ks__rqf_scale(acc, f) + out_off;
    if (mode == KS__RQ_SSAT) {
        return ks__rqf_ssat8(y);
    }
    y = y < act_min ? act_min : y;
    return y > act_max ? act_max : y;
}

#endif /* KS_FAST_INTERNAL_H */
