// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_governor.h"

int32_t ks_select_level(const ks_level_table *table, ks_level_field cost, uint64_t budget)
{
    int32_t densest = -1;       /* densest fitting level */
    int32_t most_accurate = -1; /* most accurate fitting level, ties to the cheaper */
    uint32_t best_accuracy = 0;
    int all_known = 1;
    int32_t k;
    if (table == NULL || table->data == NULL) {
        return -1;
    }
    for (k = 0; k < table->num_levels; ++k) {
        const uint32_t c = ks_level_value(table, k, cost);
        const uint32_t accuracy = ks_level_value(table, k, KS_LEVEL_ACCURACY_PPM);
        if (c == KS_LEVEL_UNKNOWN || (uint64_t)c > budget) {
            continue;
        }
        densest = k;
        if (accuracy == KS_LEVEL_UNKNOWN) {
            all_known = 0;
        } else if (most_accurate < 0 || accuracy > best_accuracy) {
            most_accurate = k;
            best_accuracy = accuracy;
        }
    }
    /* Without every accuracy, rank by nesting: a denser level holds every
     * weight of a sparser one. */
    return all_known ? most_accurate : densest;
}
