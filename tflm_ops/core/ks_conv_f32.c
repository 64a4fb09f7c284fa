// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks_conv_f32() and ks_conv_f32_get_buffer_size(): their bodies are in ks_conv_impl.inc, one template for the
 * float32 and int8 kernels; this file instantiates it (KS__FN, KS__SIZE_FN and the
 * KS__* macros below, then #include "ks_conv_impl.inc") with float32 types. */

#include "ks_internal.h"

#define KS__T float
#define KS__PARAMS ks_float_params
#define KS__DTYPE KS_DTYPE_FLOAT32
#define KS__FN ks_conv_f32
#define KS__SIZE_FN ks_conv_f32_get_buffer_size
#define KS__PARAMS_OK(p) 1
#define KS__PAD 0.0f
#define KS__EPI_ZERO(idx) ks__epilogue_f32(0.0f, (idx), prm)
#define KS__SPARSE_ROWS ks__sparse_rows_f32
#define KS__STRUCT_ROWS ks__structured_rows_f32
#define KS__POINTWISE(w, level, x, npix, prm, base, y) 0
#define KS__STRUCT_CONV(cp, w, level, prm, base, in, x, out, y, scratch) 0
#define KS__SPARSE_CONV(cp, w, level, prm, base, in, x, out, y, scratch) 0

#define KS__BODY_FN ks__conv_f32_body
#define KS__BODY_LINKAGE static
#include "ks_conv_impl.inc"
