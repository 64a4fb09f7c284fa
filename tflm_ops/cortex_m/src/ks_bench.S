/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The keras-subnets Authors */

/*
 * Marker routines for ks_bench.h.  The ks_icount plugin watches the load at
 * each entry point: the address it reads is the region name (r0).  Keep both
 * routines exactly two instructions long (KS_BENCH_OVERHEAD depends on it).
 */
    .syntax unified
    .thumb
    .text

    .global ks_bench_begin_mark
    .type ks_bench_begin_mark, %function
    .p2align 2
ks_bench_begin_mark:
    ldrb r0, [r0]
    bx lr
    .size ks_bench_begin_mark, . - ks_bench_begin_mark

    .global ks_bench_end_mark
    .type ks_bench_end_mark, %function
    .p2align 2
ks_bench_end_mark:
    ldrb r0, [r0]
    bx lr
    .size ks_bench_end_mark, . - ks_bench_end_mark
