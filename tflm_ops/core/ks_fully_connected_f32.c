// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks_fully_connected_f32(): its body is in ks_fc_impl.inc, one template for the float32 and int8
 * kernels; this file instantiates it (KS__FN and the KS__* macros below, then #include "ks_fc_impl.inc")
 * with float32 types. */

#include "ks_internal.h"

#define KS__T float
#define KS__PARAMS ks_float_params
#define KS__DTYPE KS_DTYPE_FLOAT32
#define KS__FN ks_fully_connected_f32
#define KS__PARAMS_OK(p) 1
#define KS__SPARSE_ROWS ks__sparse_rows_f32
#define KS__STRUCT_ROWS ks__structured_rows_f32

#define KS__STRUCT_BATCH(w, level, x, n, prm, base, y) 0

#include "ks_fc_impl.inc"
