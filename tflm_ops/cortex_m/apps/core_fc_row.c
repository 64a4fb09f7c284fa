// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Core kernel test on target: ks_fully_connected_s8 (tflm_ops/core) on
 * KS_FORMAT_ROW matrices, every level of every case of
 * vectors/core_fc_row.py.  Validates the matrix and quantization parameters
 * first, prints one PASS/FAIL line per (case, level) and exits with the
 * number of failures.  Each kernel call is a KS_BENCH region "core_fc_row".
 */
#include <stdio.h>
#include <string.h>

#include "core_fc_row_vectors.h"
#include "ks_bench.h"
#include "ks_ops.h"

static int8_t g_out[1024];

int main(void)
{
    int failures = 0;
    for (int k = 0; k < CORE_FC_ROW_NUM_CASES; k++) {
        const core_fc_row_case *c = &core_fc_row_cases[k];
        const ks_matrix w = {
            .format = KS_FORMAT_ROW,
            .dtype = KS_DTYPE_INT8,
            .num_levels = c->num_levels,
            .rows = c->rows,
            .cols = c->cols,
            .values = c->values,
            .num_values = c->num_values,
            .indices = c->indices,
            .num_indices = c->num_indices,
            .counts = c->counts,
            .num_table = c->num_levels,
        };
        const ks_quant_params q = {
            .input_offset = c->input_offset,
            .output_offset = c->output_offset,
            .act_min = c->act_min,
            .act_max = c->act_max,
            .per_level = c->per_level,
            .bias = c->bias,
            .multiplier = c->multiplier,
            .shift = c->shift,
        };
        ks_status s = ks_validate_matrix(&w);
        ks_status sq = ks_validate_quant_params(&q, c->num_levels, c->rows);
        if (s != KS_OK || sq != KS_OK) {
            printf("FAIL core_fc_row %s: validate -> %d / quant %d\n", c->name, (int)s, (int)sq);
            failures++;
            continue;
        }
        for (int level = 0; level < c->num_levels; level++) {
            const int n = c->batches * c->rows;
            const int8_t *exp = c->expected + level * n;
            memset(g_out, 0x55, sizeof g_out);
            KS_BENCH_BEGIN(core_fc_row);
            s = ks_fully_connected_s8(&w, level, &q, c->batches, c->input, g_out);
            KS_BENCH_END(core_fc_row);
            int bad = 0, first = -1;
            for (int i = 0; i < n; i++) {
                if (g_out[i] != exp[i]) {
                    bad++;
                    first = first < 0 ? i : first;
                }
            }
            if (s != KS_OK) {
                printf("FAIL core_fc_row %s level %d: status %d\n", c->name, level, (int)s);
                failures++;
            } else if (bad) {
                printf("FAIL core_fc_row %s level %d: %d/%d wrong, first at %d: got %d expected %d\n",
                       c->name, level, bad, n, first, g_out[first], exp[first]);
                failures++;
            } else {
                printf("PASS core_fc_row %s level %d (%d outputs)\n", c->name, level, n);
            }
        }
        /* A level outside [0, num_levels) must be refused before any work. */
        s = ks_fully_connected_s8(&w, c->num_levels, &q, c->batches, c->input, g_out);
        if (s != KS_ERR_LEVEL) {
            printf("FAIL core_fc_row %s bad level: status %d\n", c->name, (int)s);
            failures++;
        } else {
            printf("PASS core_fc_row %s bad level rejected\n", c->name);
        }
    }
    printf("core_fc_row done: %d failure(s)\n", failures);
    return failures;
}
