// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks_fully_connected_s8(): its body is in ks_fc_impl.inc, one template for the float32 and int8
 * kernels; this file instantiates it (KS__FN and the KS__* macros below, then #include "ks_fc_impl.inc")
 * with int8 types and requantization. */

#include "ks_internal.h"

#define KS__T int8_t
#define KS__PARAMS ks_quant_params
#define KS__DTYPE KS_DTYPE_INT8
#define KS__FN ks_fully_connected_s8
#define KS__PARAMS_OK(p) ((p)->multiplier != NULL && (p)->shift != NULL)
#define KS__SPARSE_ROWS ks__sparse_rows_s8
#define KS__STRUCT_ROWS ks__structured_rows_s8
#define KS__STRUCT_BATCH(w, level, x, n, prm, base, y) (ks__structured_pointwise_s8(w, level, x, n, prm, base, y), 1)

#include "ks_fc_impl.inc"
