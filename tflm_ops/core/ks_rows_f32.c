// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks__sparse_rows_f32(), ks__structured_rows_f32() and ks__sparse_rows_select_f32(): their bodies are in
 * ks_rows_impl.inc (the row loops of every sparse format, generated per pointer / index width by
 * KS__DEFINE_ROWS), one template for the float32 and int8 kernels; this file instantiates it with float32
 * types and the scale + bias + clamp epilogue. */

#include "ks_internal.h"

#define KS__DSP 0
#define KS__DSP_DECL(epi) (void)0

#define KS__T float
#define KS__ACC float
#define KS__PARAMS ks_float_params
#define KS__EPI_T ks__fepi
#define KS__EPI_MAKE(prm, base) ks__fepi_make((prm), (base))
#define KS__EPI(acc, o, epi) ks__fepi_apply((acc), (o), (epi))
#define KS__OFFSET_DECL(epi) (void)0
#define KS__MAC(acc, wv, xv) ((acc) += (wv) * (xv))
#define KS__INACTIVE(epi) 0.0f
#define KS__SPARSE_ROWS ks__sparse_rows_f32
#define KS__STRUCT_ROWS ks__structured_rows_f32
#define KS__SPARSE_SELECT ks__sparse_rows_select_f32
#define KS__SELECT_LINKAGE static

#include "ks_rows_impl.inc"
