// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks_conv_s8() and ks_conv_s8_get_buffer_size(): their bodies are in ks_conv_impl.inc, one template for the
 * float32 and int8 kernels; this file instantiates it (KS__FN, KS__SIZE_FN and the
 * KS__* macros below, then #include "ks_conv_impl.inc") with int8 types and requantization. */

#include "ks_internal.h"

#define KS__T int8_t
#define KS__PARAMS ks_quant_params
#define KS__DTYPE KS_DTYPE_INT8
#define KS__FN ks_conv_s8
#define KS__SIZE_FN ks_conv_s8_get_buffer_size
/* The padding value -input_offset must be an int8 (TFLM zero points are). */
#define KS__PARAMS_OK(p) \
    ((p)->multiplier != NULL && (p)->shift != NULL && (p)->input_offset >= -127 && (p)->input_offset <= 128)
#define KS__PAD ((int8_t)(-prm->input_offset))
#define KS__EPI_ZERO(idx) ks__requant(0, (idx), prm)
#define KS__SPARSE_ROWS ks__sparse_rows_s8
#define KS__STRUCT_ROWS ks__structured_rows_s8
#define KS__POINTWISE ks__sparse_pointwise_s8
#define KS__STRUCT_CONV ks__structured_conv_s8
#define KS__SPARSE_CONV ks__sparse_conv_s8

#define KS__BODY_FN ks__conv_s8_body
#define KS__BODY_LINKAGE 
#include "ks_conv_impl.inc"
