// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include <stddef.h>

#include "ks_ops.h"

ks_status ks_validate_matrix(const ks_matrix *w)
{
    if (w == NULL) {
        return KS_ERR_ARG;
    }
    /* A format this build leaves out (KS_FORMATS) is a valid file this
     * firmware cannot run; its validator is not linked either. */
    switch (w->format) {
    case KS_FORMAT_NESTED_CSR:
        return KS_FORMAT_BUILT(KS_FORMAT_NESTED_CSR) ? ks_validate_nested_csr(w) : KS_ERR_UNSUPPORTED;
    case KS_FORMAT_NESTED_BLOCK:
        return KS_FORMAT_BUILT(KS_FORMAT_NESTED_BLOCK) ? ks_validate_nested_block(w) : KS_ERR_UNSUPPORTED;
    case KS_FORMAT_ROW:
        return KS_FORMAT_BUILT(KS_FORMAT_ROW) ? ks_validate_row(w) : KS_ERR_UNSUPPORTED;
    case KS_FORMAT_STRUCTURED:
        return KS_FORMAT_BUILT(KS_FORMAT_STRUCTURED) ? ks_validate_structured(w) : KS_ERR_UNSUPPORTED;
    default:
        return KS_ERR_FORMAT;
    }
}
