// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* ks__sparse_rows_s8(), ks__structured_rows_s8() and ks__sparse_rows_select_s8(): their bodies are in
 * ks_rows_impl.inc (the row loops of every sparse format, generated per pointer / index width by
 * KS__DEFINE_ROWS), one template for the float32 and int8 kernels; this file instantiates it with int8
 * types, the requantization epilogue and, on DSP cores, the SMLAD paths. */

#include "ks_dsp.h"
#include "ks_internal.h"

#define KS__DSP KS_HAVE_DSP
#if KS_HAVE_DSP
#define KS__DSP_DECL(epi) const uint32_t off2 = ks__dup16((epi).input_offset); (void)off2
#else
#define KS__DSP_DECL(epi) (void)0
#endif

#define KS__T int8_t
#define KS__DV 1 /* values are the dense weights D (format v4) */
#define KS__ACC int32_t
#define KS__PARAMS ks_quant_params
#define KS__EPI_T ks__qepi
#define KS__EPI_MAKE(prm, base) ks__qepi_make((prm), (base))
#define KS__EPI(acc, o, epi) ks__requant_e((acc), (o), (epi))
#define KS__OFFSET_DECL(epi) const int32_t in_off = (epi).input_offset
#define KS__MAC(acc, wv, xv) ((acc) = ks__wrap_add((acc), (int32_t)(wv) * ((int32_t)(xv) + in_off)))
#define KS__INACTIVE(epi) ((int8_t)(epi).output_offset)
#define KS__SPARSE_ROWS ks__sparse_rows_s8
#define KS__STRUCT_ROWS ks__structured_rows_s8
#define KS__SPARSE_SELECT ks__sparse_rows_select_s8
#define KS__SELECT_LINKAGE
#define KS__ARGS_T ks__sparse_args_s8

#include "ks_rows_impl.inc"
