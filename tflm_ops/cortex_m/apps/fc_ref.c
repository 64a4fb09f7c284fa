// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Test image pattern: host-generated vectors (vectors/fc_ref.py ->
 * fc_ref_vectors.h) are compiled in; the image runs each case, compares with
 * the expected output, prints one PASS/FAIL line per case and exits with the
 * number of failed cases (0 = success).  Each kernel call is bracketed by
 * KS_BENCH markers so run_qemu.py reports its instruction count.
 */
#include <stdio.h>
#include <string.h>

#include "fc_ref_vectors.h"
#include "ks_bench.h"
#include "ks_ref_fc.h"

static int8_t g_out[4096];

static int check(const char *kernel, const fc_case *c, const int8_t *got)
{
    int n = c->batches * c->out_dim, bad = 0, first = -1;
    for (int i = 0; i < n; i++) {
        if (got[i] != c->expected[i]) {
            bad++;
            if (first < 0) {
                first = i;
            }
        }
    }
    if (bad) {
        printf("FAIL %s %s: %d/%d wrong, first at %d: got %d expected %d\n", kernel, c->name,
               bad, n, first, got[first], c->expected[first]);
    } else {
        printf("PASS %s %s (%d outputs)\n", kernel, c->name, n);
    }
    return bad != 0;
}

int main(void)
{
    int failures = 0;
    for (int k = 0; k < FC_NUM_CASES; k++) {
        const fc_case *c = &fc_cases[k];
        const ksref_fc_params p = {c->input_offset, c->filter_offset, c->output_offset,
                                   c->act_min, c->act_max};
        memset(g_out, 0x55, sizeof g_out);
        KS_BENCH_BEGIN(ref_fc);
        ksref_fully_connected_s8(&p, c->batches, c->in_dim, c->out_dim, c->input, c->weights,
                                 c->bias, c->multiplier, c->shift, g_out);
        KS_BENCH_END(ref_fc);
        failures += check("ref_fc", c, g_out);
    }
    printf("fc_ref done: %d failure(s)\n", failures);
    return failures;
}
