// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Bare-metal start-up for QEMU mps2-an386 (Cortex-M4) and mps2-an500
 * (Cortex-M7): vector table at address 0, reset handler that copies .data,
 * clears .bss, enables the FPU, runs static constructors, calls main() and
 * leaves QEMU through semihosting with main's return value.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ks_semihost.h"

extern uint32_t ks_data_start[], ks_data_end[], ks_data_load[];
extern uint32_t ks_bss_start[], ks_bss_end[];
extern uint32_t ks_stack_top[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

int main(void);
void ks_reset_handler(void);
void ks_default_handler(void);
void ks_fault_handler(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_ICSR  (*(volatile uint32_t *)0xE000ED04u)
#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu)

typedef void (*ks_vector_t)(void);

/* 16 architectural entries + 32 external interrupts (the boards' num-irq). */
__attribute__((section(".ks_vectors"), used))
const ks_vector_t ks_vector_table[16 + 32] = {
    (ks_vector_t)(uintptr_t)ks_stack_top, /* initial main stack pointer */
    ks_reset_handler,
    ks_default_handler, /* NMI */
    ks_fault_handler,   /* HardFault */
    ks_fault_handler,   /* MemManage */
    ks_fault_handler,   /* BusFault */
    ks_fault_handler,   /* UsageFault */
    0, 0, 0, 0,         /* reserved */
    ks_default_handler, /* SVCall */
    ks_default_handler, /* DebugMonitor */
    0,                  /* reserved */
    ks_default_handler, /* PendSV */
    ks_default_handler, /* SysTick */
    [16 ... 47] = ks_default_handler,
};

void ks_reset_handler(void)
{
    /* Full access to CP10/CP11 (the FPU) before any compiled code can use it. */
    SCB_CPACR |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    for (uint32_t *src = ks_data_load, *dst = ks_data_start; dst < ks_data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = ks_bss_start; dst < ks_bss_end;) {
        *dst++ = 0;
    }
    for (void (**fn)(void) = __init_array_start; fn < __init_array_end; fn++) {
        (*fn)();
    }
    exit(main()); /* flushes stdio, then _exit -> semihosting */
}

void ks_default_handler(void)
{
    uint32_t active = SCB_ICSR & 0x1FFu;
    ks_semihost_puts("ks: unexpected exception ");
    ks_semihost_put_u32(active);
    ks_semihost_puts("\n");
    ks_semihost_exit(KS_EXIT_FAULT);
}

void ks_fault_handler(void)
{
    uint32_t active = SCB_ICSR & 0x1FFu;
    ks_semihost_puts("ks: fault, exception ");
    ks_semihost_put_u32(active);
    ks_semihost_puts(" CFSR=0x");
    ks_semihost_put_hex(SCB_CFSR);
    ks_semihost_puts(" HFSR=0x");
    ks_semihost_put_hex(SCB_HFSR);
    ks_semihost_puts("\n");
    ks_semihost_exit(KS_EXIT_FAULT);
}
