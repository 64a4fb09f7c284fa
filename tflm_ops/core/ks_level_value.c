// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_governor.h"

static uint32_t ks__u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t ks_level_value(const ks_level_table *table, int32_t level, ks_level_field field)
{
    int32_t f;
    if (table == NULL || table->data == NULL || level < 0 || level >= table->num_levels) {
        return KS_LEVEL_UNKNOWN;
    }
    for (f = 0; f < table->num_fields; ++f) {
        if (ks__u32le(table->data + 12 + 4 * f) == (uint32_t)field) {
            return ks__u32le(table->data + 12 + 4 * (table->num_fields * (1 + level) + f));
        }
    }
    return KS_LEVEL_UNKNOWN;
}
