// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_ops.h"

/* Format v2: level pointers of nested_csr / nested_block are uint16 when every
 * pointer value (at most the entry count) fits, else int32.  Like the index
 * type, the width follows from the data's size, so no type field can
 * disagree with it. */
int32_t ks_ptr_is_u16(int32_t num_entries)
{
    return num_entries <= 65535 ? 1 : 0;
}
