// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks_depthwise_conv_f32() and ks_depthwise_conv_f32_get_buffer_size(): their bodies are in ks_dw_impl.inc, one template for the
 * float32 and int8 kernels; this file instantiates it (KS__FN, KS__SIZE_FN and the
 * KS__* macros below, then #include "ks_dw_impl.inc") with float32 types and no requantization. */

#include "ks_internal.h"

#define KS__T float
#define KS__ACC float
#define KS__PARAMS ks_float_params
#define KS__DTYPE KS_DTYPE_FLOAT32
#define KS__FN ks_depthwise_conv_f32
#define KS__SIZE_FN ks_depthwise_conv_f32_get_buffer_size
#define KS__PARAMS_OK(p) 1
#define KS__EPI_GLOBALS(p)                                                     \
    const float act_min = (p)->act_min;                                        \
    const float act_max = (p)->act_max
#define KS__ROW_EPI_DECL(p, i)                                                 \
    const float es_ = (p)->scale != NULL ? (p)->scale[(i)] : 1.0f;             \
    const float eb_ = (p)->bias != NULL ? (p)->bias[(i)] : 0.0f
#define KS__ROW_EPI(acc) ks__clamp_f32(es_ * (acc) + eb_, act_min, act_max)
#define KS__MAC(acc, wv, xv) ((acc) += (wv) * (xv))
#define KS__MAC_NOOFF(acc, wv, xv) KS__MAC(acc, wv, xv)
#define KS__FOLD_DECL (void)0
#define KS__FOLD_ADD(wv) (void)(wv)
#define KS__FOLD_END (void)0
#define KS__CHANNEL_DECL (void)0
#define KS__INACTIVE 0.0f
#define KS__ROW_STORE(a, cnt, y, stride)                                       \
    do {                                                                       \
        int32_t k_;                                                            \
        for (k_ = 0; k_ < (cnt); ++k_) {                                       \
            (y)[k_ * (stride)] = KS__ROW_EPI((a)[k_]);                         \
        }                                                                      \
    } while (0)
#define KS__STORE_PARAM , float es_, float eb_, float act_min, float act_max
#define KS__STORE_ARG , es_, eb_, act_min, act_max
#define KS__IN_OFF_PARAM
#define KS__IN_OFF_ARG
#define KS__WSCALE(wv) (wv)
#define KS__WSCALE_PARAM
#define KS__WSCALE_ARG
#define KS__BORDER_INIT 0.0f
#define KS__INTERIOR_INIT 0.0f

#define KS__BODY_FN ks__depthwise_conv_f32_body
#define KS__STRUCT_DW(cp, w, level, prm, base, in, x, out, y, scratch) 0
#define KS__DW_FEW(x, y, rel, val, tky, tkx, n, lo, hi) 0
#define KS__BODY_LINKAGE static
#include "ks_dw_impl.inc"
