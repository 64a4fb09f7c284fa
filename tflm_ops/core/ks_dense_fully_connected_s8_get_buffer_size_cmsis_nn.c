// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if defined(KS_CMSIS_NN)
#include "ks_dense_cmsis_nn.h"

/* CMSIS-NN's own size, asked as TFLM's cmsis_nn kernel asks at Prepare. */
int32_t ks_dense_fully_connected_s8_get_buffer_size(int32_t rows, int32_t cols)
{
    cmsis_nn_dims filter_dims;
    if (rows < 1 || cols < 1) {
        return 0;
    }
    filter_dims = ks__nn_dims(cols, 1, 1, rows);
    return arm_fully_connected_s8_get_buffer_size(&filter_dims);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks_dense_fully_connected_s8_get_buffer_size_cmsis_nn_unused;
#endif /* KS_CMSIS_NN */
