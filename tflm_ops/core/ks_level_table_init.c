// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_governor.h"

/* Layout (docs/format.md §12, binary level table), little-endian:
 *   "KSLT", u16 version, u16 num_levels, u16 num_fields, u16 reserved (0),
 *   u32 field id [num_fields], u32 value [num_levels][num_fields]. */
#define KS_LEVEL_TABLE_HEADER 12u

static uint32_t ks__u16le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

ks_status ks_level_table_init(ks_level_table *table, const void *data, size_t bytes)
{
    const uint8_t *p = (const uint8_t *)data;
    uint32_t levels;
    uint32_t fields;
    if (table == NULL || data == NULL) {
        return KS_ERR_ARG;
    }
    table->data = NULL;
    table->num_levels = 0;
    table->num_fields = 0;
    if (bytes < KS_LEVEL_TABLE_HEADER || p[0] != 'K' || p[1] != 'S' || p[2] != 'L' || p[3] != 'T' ||
        ks__u16le(p + 4) != KS_LEVEL_TABLE_VERSION || ks__u16le(p + 10) != 0) {
        return KS_ERR_FORMAT;
    }
    levels = ks__u16le(p + 6);
    fields = ks__u16le(p + 8);
    if (levels < 1 || levels > KS_MAX_LEVELS || fields < 1 || fields > 64) {
        return KS_ERR_FORMAT;
    }
    if (bytes != KS_LEVEL_TABLE_HEADER + 4u * fields * (1u + levels)) {
        return KS_ERR_FORMAT;
    }
    table->data = p;
    table->num_levels = (int32_t)levels;
    table->num_fields = (int32_t)fields;
    return KS_OK;
}
