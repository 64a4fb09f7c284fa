// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* Harness check: main's return value becomes QEMU's exit status. */
#include <stdio.h>

int main(void)
{
    printf("exiting with 42\n");
    return 42;
}
