// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks_depthwise_conv_s8() and ks_depthwise_conv_s8_get_buffer_size(): their bodies are in ks_dw_impl.inc, one template for the
 * float32 and int8 kernels; this file instantiates it (KS__FN, KS__SIZE_FN and the
 * KS__* macros below, then #include "ks_dw_impl.inc") with int8 types and the requantization helpers below. */

#include "ks_internal.h"
#include "ks_requant.h"

/* Returns the factor ±2^left to fold into the accumulator and leaves `r`
 * without sign or left shift (single rounding keeps its own path: 1). */
static inline uint32_t ks__rq_prescale(ks__rq *r)
{
#if KS_SINGLE_ROUNDING
    (void)r;
    return 1u;
#else
    const uint32_t f = (((uint32_t)1 << r->left) ^ (uint32_t)r->neg) - (uint32_t)r->neg;
    r->neg = 0;
    r->left = 0;
    return f;
#endif
}

#if KS_HAVE_DSP && !(defined(KS_DSP_EMULATE) && KS_DSP_EMULATE)
static inline int32_t ks__qadd(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t ks__ssat8(int32_t a)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(a));
    return r;
}
#else
static inline int32_t ks__ssat8(int32_t a)
{
    return a < -128 ? -128 : (a > 127 ? 127 : a);
}
static inline int32_t ks__qadd(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}
#endif

/* Requantization of a prescaled channel: 0 = ks__rq_apply(); 1 = |multiplier|
 * >= 2^30 and 1 <= right <= 23, where TFLM's rounding divide is
 * (hi + 2^(right-1) - (hi < 0)) >> right.  That add saturates only for
 * hi > INT32_MAX - 2^(right-1), where the exact quotient 2^(31-right) >= 256
 * and the saturated one, one less, both clamp to act_max (out_off >= -128,
 * act_max <= 127).  2 = 1 with the full int8 range (SSAT). */
static inline int32_t ks__dw_rq_mode(const ks__rq *r, int32_t out_off, int32_t act_min, int32_t act_max)
{
#if KS_SINGLE_ROUNDING
    (void)r;
    (void)out_off;
    (void)act_min;
    (void)act_max;
    return 0;
#else
    if (r->amask != -1 || r->right < 1 || r->right > 23 || out_off < -128 || act_max > 127) {
        return 0;
    }
    return act_min == -128 && act_max == 127 ? 2 : 1;
#endif
}

static inline int32_t ks__dw_rq_fast(int32_t x, const ks__rq *r)
{
    int32_t hi;
#if KS_HAVE_DSP
    hi = ks__smmlar(x, r->m2, x);
#else
    hi = (int32_t)(((int64_t)x * (int64_t)(uint32_t)r->m2 + ((int64_t)1 << 31)) >> 32);
#endif
    return ks__qadd(hi, (r->half + 1) - (int32_t)((uint32_t)hi >> 31)) >> r->right;
}

/* Kept out of line so its loops get the registers to themselves. */
static void ks__dw_store(const int32_t *a, int32_t cnt, int8_t *y, int32_t stride, const ks__rq *rq, int32_t mode,
                         int32_t out_off, int32_t act_min, int32_t act_max)
{
    const ks__rq r = *rq;
    int32_t i;
    if (mode == 2) {
        for (i = 0; i < cnt; ++i, y += stride) {
            *y = (int8_t)ks__ssat8(ks__dw_rq_fast(a[i], &r) + out_off);
        }
    } else if (mode == 1) {
        for (i = 0; i < cnt; ++i, y += stride) {
            int32_t v = ks__dw_rq_fast(a[i], &r) + out_off;
            v = v < act_min ? act_min : v;
            v = v > act_max ? act_max : v;
            *y = (int8_t)v;
        }
    } else {
        for (i = 0; i < cnt; ++i, y += stride) {
            *y = ks__rq_apply(a[i], &r, out_off, act_min, act_max);
        }
    }
}

#define KS__T int8_t
#define KS__ACC int32_t
#define KS__PARAMS ks_quant_params
#define KS__DTYPE KS_DTYPE_INT8
#define KS__FN ks_depthwise_conv_s8
#define KS__SIZE_FN ks_depthwise_conv_s8_get_buffer_size
#define KS__PARAMS_OK(p) ((p)->multiplier != NULL && (p)->shift != NULL)
#define KS__EPI_GLOBALS(p)                                                     \
    const int32_t in_off = (p)->input_offset;                                  \
    const int32_t out_off = (p)->output_offset;                                \
    const int32_t act_min = (p)->act_min;                                      \
    const int32_t act_max = (p)->act_max
/* The multiplier's sign and left shift are folded into the channel's
 * weights and bias (wrapping int32 multiplication by ±2^left is a ring
 * homomorphism, so the accumulator comes out already negated and shifted,
 * bit for bit), leaving the per-pixel requantization a high multiply, a
 * rounding shift and the clamp. */
#define KS__ROW_EPI_DECL(p, i)                                                 \
    ks__rq rq_ = ks__rq_make((p)->multiplier[(i)], (p)->shift[(i)]);           \
    const uint32_t sc_ = ks__rq_prescale(&rq_);                                \
    const int32_t mode_ = ks__dw_rq_mode(&rq_, out_off, act_min, act_max);     \
    const int32_t eb_ = (int32_t)((uint32_t)((p)->bias != NULL ? (p)->bias[(i)] : 0) * sc_)
#define KS__ROW_EPI(acc) ks__rq_apply((acc), &rq_, out_off, act_min, act_max)
/* The strip sweep's store, with the channel's constants as its parameters. */
#define KS__ROW_STORE(a, cnt, y, stride) ks__dw_store((a), (cnt), (y), (stride), rqp_, mode_, out_off, act_min, act_max)
#define KS__STORE_PARAM , const ks__rq *rqp_, int32_t mode_, int32_t out_off, int32_t act_min, int32_t act_max
#define KS__STORE_ARG , &rq_, mode_, out_off, act_min, act_max
#define KS__WSCALE(wv) ((int32_t)((uint32_t)(int32_t)(wv) * sc_))
#define KS__WSCALE_PARAM , uint32_t sc_
#define KS__WSCALE_ARG , sc_
#define KS__BORDER_INIT eb_
#define KS__INTERIOR_INIT ((int32_t)((uint32_t)folded_ + (uint32_t)eb_))
/* Products in uint32: prescaled weights can be any int32. */
#define KS__MAC(acc, wv, xv)                                                   \
    ((acc) = (int32_t)((uint32_t)(acc) + (uint32_t)(wv) * (uint32_t)((int32_t)(xv) + in_off)))
#define KS__MAC_NOOFF(acc, wv, xv) ((acc) = (int32_t)((uint32_t)(acc) + (uint32_t)(wv) * (uint32_t)(int32_t)(xv)))
#define KS__IN_OFF_PARAM , int32_t in_off
#define KS__IN_OFF_ARG , in_off
#define KS__FOLD_DECL uint32_t fs_ = 0
#define KS__FOLD_ADD(wv) (fs_ += (uint32_t)(wv))
#define KS__FOLD_END folded_ = (int32_t)((uint32_t)in_off * fs_)
#define KS__CHANNEL_DECL int32_t folded_ = 0
#define KS__INACTIVE ((int8_t)out_off)

#define KS__BODY_FN ks__depthwise_conv_s8_body
#define KS__STRUCT_DW ks__structured_depthwise_conv_s8
#define KS__DW_FEW(x, y, rel, val, tky, tkx, n, lo, hi)                                                       \
    ks__dw_few_s8(cp, in, out, (x), (y), rows, (rel), (val), (tky), (tkx), (n), (lo), (hi), &rq_, mode_, eb_,  \
                  KS__INTERIOR_INIT, in_off, out_off, act_min, act_max)
#define KS__BODY_LINKAGE 
#define KS__DV 1 /* int8 sparse values are the dense weights D (format v4) */
#include "ks_dw_impl.inc"
