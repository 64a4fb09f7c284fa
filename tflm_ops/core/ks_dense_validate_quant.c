// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_dense.h"

/* Portable and CMSIS-NN builds alike: the tables are read at every call, so
 * they are checked once, when the layer is prepared. */
ks_status ks_dense_validate_quant(const ks_dense_quant *q, int32_t rows)
{
    int32_t o;
    if (q == NULL || rows < 1 || q->multiplier == NULL || q->shift == NULL) {
        return KS_ERR_ARG;
    }
    if (q->input_offset < -127 || q->input_offset > 128 || q->output_offset < -128 || q->output_offset > 127 ||
        q->act_min < -128 || q->act_max > 127 || q->act_min > q->act_max) {
        return KS_ERR_ARG;
    }
    for (o = 0; o < rows; ++o) {
        if (q->multiplier[o] == INT32_MIN || q->shift[o] < -31 || q->shift[o] > 30) {
            return KS_ERR_ARG;
        }
    }
    return KS_OK;
}
