// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_ops.h"

ks_status ks_validate_matrix(const ks_matrix *w)
{
    if (w == NULL) {
        return KS_ERR_ARG;
    }
    switch (w->format) {
    case KS_FORMAT_NESTED_CSR:
        return ks_validate_nested_csr(w);
    case KS_FORMAT_NESTED_BLOCK:
        return ks_validate_nested_block(w);
    case KS_FORMAT_ROW:
        return ks_validate_row(w);
    case KS_FORMAT_STRUCTURED:
        return ks_validate_structured(w);
    default:
        return KS_ERR_FORMAT;
    }
}
