// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_validate_common.h"

ks_status ks_validate_nested_csr(const ks_matrix *w)
{
    ks_status s = ks__validate_header(w, KS_FORMAT_NESTED_CSR);
    if (s != KS_OK) {
        return s;
    }
    s = ks__validate_ptr_groups(w, w->cols);
    if (s != KS_OK) {
        return s;
    }
    return ks__validate_sparse_values(w, 1);
}
