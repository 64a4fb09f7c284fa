// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Harness self-test: printf through semihosting, FPU use, .data/.bss set-up,
 * and regions with known instruction counts so that the counter and the
 * marker-overhead subtraction can be checked exactly:
 *   empty       -> 0 instructions
 *   nop10       -> 10 instructions
 *   loop100     -> 1 + 100 * 3 = 301 instructions (mov, then subs/nop/bne)
 */
#include <stdio.h>

#include "ks_bench.h"

static volatile float g_scale = 1.5f; /* .data */
volatile int g_zeroed[16];            /* .bss (extern: the compiler cannot assume 0) */

int main(void)
{
    int failures = 0;

    volatile float x = g_scale * 3.0f; /* hardware FPU instruction */
    if (x != 4.5f) {
        printf("FAIL fpu\n");
        failures++;
    } else {
        printf("PASS fpu\n");
    }

    int nonzero = 0;
    for (int i = 0; i < 16; i++) {
        nonzero |= g_zeroed[i];
    }
    printf("%s bss\n", nonzero ? "FAIL" : "PASS");
    failures += nonzero != 0;

    KS_BENCH_BEGIN(empty);
    KS_BENCH_END(empty);

    KS_BENCH_BEGIN(nop10);
    __asm__ volatile("nop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
                     "nop\n\tnop\n\tnop\n\tnop\n\tnop");
    KS_BENCH_END(nop10);

    KS_BENCH_BEGIN(loop100);
    __asm__ volatile("mov r1, #100\n"
                     "1:\n\t"
                     "subs r1, r1, #1\n\t"
                     "nop\n\t"
                     "bne 1b"
                     :
                     :
                     : "r1", "cc");
    KS_BENCH_END(loop100);

    printf("PASS markers\n");
    printf("selftest done: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
