// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Prepared calls: the int8 kernels of ks_ops.h and ks_dense.h split into a
 * plan, made once at Prepare, and a run, at every Eval.
 *
 *   ks_plan plan;                                     (persistent memory)
 *   ks_plan_conv_s8(&plan, &cp, &w, &q, &in, &out);   Prepare: validates
 *                                                     everything, derives
 *                                                     pointers, loop bounds,
 *                                                     per-level table bases
 *   scratch = ks_plan_scratch_size(&plan) bytes        (arena scratch)
 *   ks_run_s8(&plan, level, input, output, scratch);  Eval: checks the level
 *                                                     (run-time data) and
 *                                                     does only the work
 *
 * A run gives bit for bit the output of the matching unplanned kernel
 * (ks_fully_connected_s8, ks_conv_s8, ks_depthwise_conv_s8, ks_dense_*)
 * on the same arguments.  The plan keeps pointers to the caller's arrays
 * (matrix, tables, weights): they must outlive it and stay unchanged.  A
 * plan is a plain struct with no pointers into itself, so it may be copied.
 *
 * Sparse conv with one input channel and more than one tap (the stem of a
 * CNN) is planned as a depthwise conv with depth multiplier = rows: the same
 * matrix, whose channel-outer loop sweeps all pixels per output channel
 * instead of gathering a 1-channel window per pixel (not for the structured
 * format, whose widths mean input channels).
 *
 * Dense plans cover one level (the densest); ks_run_s8 takes level 0 for
 * them.  With -DKS_CMSIS_NN they call CMSIS-NN as ks_dense.h says.
 */
#ifndef KS_PLAN_H
#define KS_PLAN_H

#include <stdint.h>

#include "ks_dense.h"
#include "ks_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- internal types a plan stores (read only by the core) -------------- */

/* Epilogue constants of one level (requantization tables from its base). */
typedef struct ks__qepi {
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
} ks__qepi;

/* Arguments of a sparse row loop (nested_csr / nested_block / row). */
typedef struct ks__sparse_args_s8 {
    const int8_t *v; /* the dense weights D (format v4) */
    const void *idx;
    const void *p;
    int32_t L, level, stride, count, rows, cols, partial, pairs;
} ks__sparse_args_s8;

typedef void (*ks__rows_fn_s8)(const ks__sparse_args_s8 *a, const int8_t *x, const int32_t *off,
                               const ks__qepi *epi, int8_t *y);

typedef void (*ks__plan_fn)(void); /* a kernel-specific loop, cast back where used */

struct ks_plan;
typedef ks_status (*ks__plan_run_fn)(const struct ks_plan *p, int32_t level, const int8_t *input,
                                     int8_t *output, void *scratch);

/* Fields are internal: filled by ks_plan_*, read by ks_run_s8. */
typedef struct ks_plan {
    ks__plan_run_fn run;
    int32_t num_levels;
    int32_t scratch_size;
    int32_t batches; /* fully connected */
    ks_matrix w;
    ks_quant_params q;
    ks_conv_params cp;
    ks_dims in;
    ks_dims out;
    int32_t qbase[KS_MAX_LEVELS];  /* first table entry of each level */
    int32_t count[KS_MAX_LEVELS];  /* row format: entries per row */
    ks__plan_fn fc_fn;             /* fully connected: its own row loop */
    uint32_t fc_fast;              /* fully connected: bit k = level k's requantization all fast */
    ks__sparse_args_s8 rows_args;  /* fully connected row format: only .stride (entries per row) */
    /* Dense: TFLite-layout weights, int32-shift requantization. */
    const int8_t *weights;
    ks_dense_quant dq;
    int32_t rows;
    int32_t cols;
    /* CMSIS-NN build: CMSIS-NN's argument structs, built at Prepare (raw
     * storage, so this header needs no CMSIS-NN include). */
    union {
        int32_t words[36]; /* 120 bytes on 32-bit Arm, 136 on LP64 hosts */
        void *align_ptr;
        int64_t align_64;
    } nn;
} ks_plan;

/* Sparse int8 kernels (ks_ops.h).  The matrix and tables are validated
 * here (ks_validate_matrix, ks_validate_quant_params_matrix), not at run. */
ks_status ks_plan_fully_connected_s8(ks_plan *p, const ks_matrix *w, const ks_quant_params *q,
                                     int32_t batches);
ks_status ks_plan_conv_s8(ks_plan *p, const ks_conv_params *cp, const ks_matrix *w,
                          const ks_quant_params *q, const ks_dims *in, const ks_dims *out);
ks_status ks_plan_depthwise_conv_s8(ks_plan *p, const ks_conv_params *cp, const ks_matrix *w,
                                    const ks_quant_params *q, const ks_dims *in, const ks_dims *out);

/* Dense int8 kernels (ks_dense.h); q validated by ks_dense_validate_quant. */
ks_status ks_plan_dense_fully_connected_s8(ks_plan *p, const int8_t *weights, int32_t rows, int32_t cols,
                                           const ks_dense_quant *q, int32_t batches);
ks_status ks_plan_dense_conv_s8(ks_plan *p, const ks_conv_params *cp, const int8_t *weights,
                                const ks_dense_quant *q, const ks_dims *in, const ks_dims *out);
ks_status ks_plan_dense_depthwise_conv_s8(ks_plan *p, const ks_conv_params *cp, const int8_t *weights,
                                          const ks_dense_quant *q, const ks_dims *in, const ks_dims *out);

/* Bytes of 4-byte aligned scratch every run of this plan needs (0: pass NULL). */
int32_t ks_plan_scratch_size(const ks_plan *p);

/* Runs a plan at `level` (KS_ERR_LEVEL outside [0, num_levels), before any
 * array is read).  input/output as the planned kernel's. */
ks_status ks_run_s8(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output, void *scratch);

#ifdef __cplusplus
}
#endif

#endif /* KS_PLAN_H */
