// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"

ks_status ks_dense_fully_connected_s8(const int8_t *weights, int32_t rows, int32_t cols, const ks_dense_quant *q,
                                      int32_t batches, const int8_t *input, int8_t *output, void *scratch)
{
    ks__dq e;
    int32_t b;

    (void)scratch;
    if (weights == NULL || rows < 1 || cols < 1 || batches < 0 || !ks__dense_quant_ok(q) ||
        (batches > 0 && (input == NULL || output == NULL))) {
        return KS_ERR_ARG;
    }
    e = ks__dq_make(q);
    /* Batches in pairs: each weight word serves two input vectors. */
    for (b = 0; b + 1 < batches; b += 2) {
        const int8_t *x = input + b * cols;
        int8_t *y = output + b * rows;
        ks__dense_rows_s8(weights, rows, cols, x, x + cols, &e, y, y + rows);
    }
    if (b < batches) {
        ks__dense_rows_s8(weights, rows, cols, input + b * cols, NULL, &e, output + b * rows, NULL);
    }
    return KS_OK;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_fully_connected_s8_unused;
#endif /* !KS_CMSIS_NN */
