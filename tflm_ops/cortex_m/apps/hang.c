// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* Harness check: an image that never exits is stopped by run_qemu's timeout. */
#include <stdio.h>

int main(void)
{
    printf("hanging\n");
    for (;;) {
        __asm__ volatile("" ::: "memory");
    }
}
