// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_validate_common.h"

ks_status ks_validate_quant_params(const ks_quant_params *q, int32_t num_levels, int32_t rows)
{
    if (q == NULL) {
        return KS_ERR_ARG;
    }
    if (num_levels < 1 || num_levels > KS_MAX_LEVELS || rows < 0) {
        return KS_ERR_ARG;
    }
    /* A prefix layout's length depends on the structured widths:
     * ks_validate_quant_params_matrix() checks it. */
    if (q->per_level != KS_TABLES_SHARED && q->per_level != KS_TABLES_PER_LEVEL) {
        return KS_ERR_ARG;
    }
    return ks__validate_quant_entries(q, q->per_level == KS_TABLES_PER_LEVEL ? num_levels * rows : rows);
}
