// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_ops.h"

/* uint8 indices halve index storage for the common small layers (FC inputs
 * up to 256, conv windows up to 3*3*28, every depthwise kernel up to 16x16);
 * the rule depends only on the index space so a kernel never needs a type
 * field that could disagree with the data. */
int32_t ks_index_is_u8(int32_t n)
{
    return n <= 256 ? 1 : 0;
}
