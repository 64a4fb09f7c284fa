// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/* Minimal ARM semihosting for the QEMU Cortex-M images (BKPT 0xAB). */
#ifndef KS_SEMIHOST_H
#define KS_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit status used by the fault handlers (tests treat it as a crash). */
#define KS_EXIT_FAULT 99

/* Raw semihosting call: operation number and parameter (pointer or value). */
uintptr_t ks_semihost_call(uint32_t op, uintptr_t arg);

/* Write bytes to the host's stdout; returns the number written. */
size_t ks_semihost_write(const void *buf, size_t len);
void ks_semihost_puts(const char *s);        /* no newline added */
void ks_semihost_put_u32(uint32_t v);        /* decimal */
void ks_semihost_put_hex(uint32_t v);        /* 8 hex digits */

/* Stop QEMU with the given process exit status (SYS_EXIT_EXTENDED). */
__attribute__((noreturn)) void ks_semihost_exit(int status);

#ifdef __cplusplus
}
#endif
#endif
