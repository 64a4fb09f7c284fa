// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* Harness check: a fault is reported and ends the run with KS_EXIT_FAULT. */
#include <stdio.h>

int main(void)
{
    printf("about to fault\n");
    __asm__ volatile("udf #0");
    printf("not reached\n");
    return 0;
}
