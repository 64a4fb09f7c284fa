// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"
#include "ks_plan_dense_internal.h"

static ks_status ks__run_dense_fc(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                  void *scratch)
{
    const int32_t rows = p->rows;
    const int32_t cols = p->cols;
    const int32_t batches = p->batches;
    const ks__dq e = ks__dq_make(&p->dq);
    int32_t b;
    (void)scratch;
    if (level != 0) {
        return KS_ERR_LEVEL;
    }
    for (b = 0; b + 1 < batches; b += 2) {
        ks__dense_rows_s8(p->weights, rows, cols, input, input + cols, &e, output, output + rows);
        input += 2 * cols;
        output += 2 * rows;
    }
    if (b < batches) {
        ks__dense_rows_s8(p->weights, rows, cols, input, NULL, &e, output, NULL);
    }
    return KS_OK;
}

ks_status ks_plan_dense_fully_connected_s8(ks_plan *p, const int8_t *weights, int32_t rows, int32_t cols,
                                           const ks_dense_quant *q, int32_t batches)
{
    const ks_status s = ks__plan_dense_fc_common(p, weights, rows, cols, q, batches);
    if (s != KS_OK) {
        return s;
    }
    p->run = ks__run_dense_fc;
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_plan_dense_fully_connected_s8_unused;
#endif /* !KS_CMSIS_NN */
