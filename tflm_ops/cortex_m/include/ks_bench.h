// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Benchmark region markers for the QEMU instruction counter.
 *
 *     KS_BENCH_BEGIN(fc_256x256);
 *     ks_fully_connected(...);
 *     KS_BENCH_END(fc_256x256);
 *
 * Each marker loads the address of a string holding the region name into r0
 * and calls a two-instruction marker routine (ks_bench.S) whose first
 * instruction loads a byte from that string.  The ks_icount plugin logs its
 * instruction counter whenever that load executes, together with the loaded
 * address; run_qemu.py maps the address back to the name through the ELF
 * file and reports, per region, the instructions executed strictly between
 * the two markers (the marker overhead, KS_BENCH_OVERHEAD instructions, is
 * subtracted).  A region may run several times; nested or interleaved
 * regions need distinct names.
 *
 * The markers clobber only r0, lr and the flags, and act as compiler memory
 * barriers, so they barely disturb the code they bracket.  Without the
 * plugin they cost a few instructions and do nothing.  The name must be a
 * valid C identifier-like token (letters, digits, underscores).
 */
#ifndef KS_BENCH_H
#define KS_BENCH_H

#ifdef __cplusplus
extern "C" {
#endif

void ks_bench_begin_mark(const char *name);
void ks_bench_end_mark(const char *name);

/* Instructions of marker code counted between the two plugin events:
 * "bx lr" of the begin marker, then movw, movt, bl and the ldrb of the end
 * marker.  run_qemu.py subtracts this. */
#define KS_BENCH_OVERHEAD 5

#define KS_BENCH__MARK(fn, name)                                              \
    __asm__ volatile(".pushsection .rodata.ks_bench_names,\"aMS\",%%progbits,1\n\t" \
                     "1001: .asciz \"" #name "\"\n\t"                         \
                     ".popsection\n\t"                                        \
                     "movw r0, #:lower16:1001b\n\t"                           \
                     "movt r0, #:upper16:1001b\n\t"                           \
                     "bl " #fn                                                \
                     :                                                        \
                     :                                                        \
                     : "r0", "lr", "cc", "memory")

#define KS_BENCH_BEGIN(name) KS_BENCH__MARK(ks_bench_begin_mark, name)
#define KS_BENCH_END(name) KS_BENCH__MARK(ks_bench_end_mark, name)

#ifdef __cplusplus
}
#endif
#endif
