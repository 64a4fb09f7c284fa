// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"

/* Rows stream straight from the weights: no scratch. */
int32_t ks_dense_fully_connected_s8_get_buffer_size(int32_t rows, int32_t cols)
{
    (void)rows;
    (void)cols;
    return 0;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_fully_connected_s8_get_buffer_size_unused;
#endif /* !KS_CMSIS_NN */
