// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_validate_common.h"

ks_status ks_validate_quant_params_matrix(const ks_quant_params *q, const ks_matrix *w)
{
    int32_t n;
    if (q == NULL || w == NULL) {
        return KS_ERR_ARG;
    }
    n = ks_table_length(w, q->per_level);
    if (n < 0) {
        return KS_ERR_ARG;
    }
    return ks__validate_quant_entries(q, n);
}
