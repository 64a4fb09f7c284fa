// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * ks_icount: a tiny QEMU TCG plugin that counts executed guest instructions
 * and logs the counter at the benchmark markers of ks_bench.h.
 *
 * Debian ships no qemu-plugin.h, so the handful of plugin API entry points
 * used here are declared by hand below.  They have had the same signatures
 * from plugin API version 0 (QEMU 4.2) through the current versions; only the
 * exported `qemu_plugin_version` must fall inside the range the running QEMU
 * accepts (QEMU 7.2 accepts exactly 1; QEMU >= 9 refuses 1).  Build with
 * -DKS_PLUGIN_API_VERSION=N to choose it (the Makefile derives N from
 * `qemu-system-arm --version`).
 *
 * Arguments (qemu -plugin path.so,key=value,...):
 *   begin=0xADDR   address of ks_bench_begin_mark (thumb bit ignored)
 *   end=0xADDR     address of ks_bench_end_mark
 *   outfile=PATH   where to write the event log (default: qemu log / stderr)
 *
 * Log format, one event per line, written as it happens:
 *   B <name-address hex> <instructions executed so far>
 *   E <name-address hex> <instructions executed so far>
 *   T <total instructions>            (at exit, when QEMU calls atexit hooks)
 * The counter includes the marker's own load instruction; run_qemu.py turns
 * pairs of events into per-region counts.
 *
 * The marker load is watched with a QEMU_PLUGIN_MEM_RW memory callback: on
 * QEMU 7.2 a callback registered for QEMU_PLUGIN_MEM_R alone never fired.
 *
 * Every instruction gets its own exec callback: slower than counting per
 * translation block but exact even when a block is left early (exceptions,
 * semihosting traps).  Only vCPU 0 exists on these boards.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KS_PLUGIN_API_VERSION
#define KS_PLUGIN_API_VERSION 1
#endif

/* ---- hand-written subset of the QEMU plugin API ------------------------- */
typedef uint64_t qemu_plugin_id_t;
typedef uint32_t qemu_plugin_meminfo_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct ks_qemu_info ks_qemu_info; /* opaque: never dereferenced */

enum ks_cb_flags { KS_CB_NO_REGS = 0 };
enum ks_mem_rw { KS_MEM_R = 1, KS_MEM_W = 2, KS_MEM_RW = 3 };

typedef void (*ks_tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*ks_exec_cb)(unsigned int vcpu_index, void *userdata);
typedef void (*ks_mem_cb)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                          uint64_t vaddr, void *userdata);
typedef void (*ks_udata_cb)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, ks_tb_trans_cb cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, ks_exec_cb cb,
                                            enum ks_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, ks_mem_cb cb,
                                      enum ks_cb_flags flags, enum ks_mem_rw rw,
                                      void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, ks_udata_cb cb, void *userdata);
void qemu_plugin_outs(const char *string);

#define KS_EXPORT __attribute__((visibility("default")))
KS_EXPORT int qemu_plugin_version = KS_PLUGIN_API_VERSION;
KS_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const ks_qemu_info *info,
                                  int argc, char **argv);

/* ---- plugin state -------------------------------------------------------- */
static uint64_t g_count;           /* instructions executed so far */
static uint64_t g_begin = UINT64_MAX, g_end = UINT64_MAX;
static FILE *g_out;                /* NULL: use qemu_plugin_outs */
static char g_begin_tag = 'B', g_end_tag = 'E';

static void emit(const char *line)
{
    if (g_out) {
        fputs(line, g_out);
        fflush(g_out);
    } else {
        qemu_plugin_outs(line);
    }
}

static void on_insn(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    g_count++;
}

static void on_marker_load(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                           uint64_t vaddr, void *userdata)
{
    char line[96];
    (void)vcpu_index;
    (void)info;
    snprintf(line, sizeof line, "%c %08" PRIx64 " %" PRIu64 "\n",
             *(const char *)userdata, vaddr, g_count);
    emit(line);
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, KS_CB_NO_REGS, NULL);
        if (pc == g_begin) {
            qemu_plugin_register_vcpu_mem_cb(insn, on_marker_load, KS_CB_NO_REGS,
                                             KS_MEM_RW, &g_begin_tag);
        } else if (pc == g_end) {
            qemu_plugin_register_vcpu_mem_cb(insn, on_marker_load, KS_CB_NO_REGS,
                                             KS_MEM_RW, &g_end_tag);
        }
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[64];
    (void)id;
    (void)userdata;
    snprintf(line, sizeof line, "T %" PRIu64 "\n", g_count);
    emit(line);
    if (g_out) {
        fclose(g_out);
        g_out = NULL;
    }
}

static bool parse_addr(const char *text, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 0);
    if (end == text || *end != '\0') {
        return false;
    }
    *out = v & ~1ULL; /* strip the Thumb bit of a function symbol */
    return true;
}

int qemu_plugin_install(qemu_plugin_id_t id, const ks_qemu_info *info,
                        int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "begin=", 6) == 0) {
            if (!parse_addr(a + 6, &g_begin)) {
                fprintf(stderr, "ks_icount: bad address in '%s'\n", a);
                return -1;
            }
        } else if (strncmp(a, "end=", 4) == 0) {
            if (!parse_addr(a + 4, &g_end)) {
                fprintf(stderr, "ks_icount: bad address in '%s'\n", a);
                return -1;
            }
        } else if (strncmp(a, "outfile=", 8) == 0) {
            g_out = fopen(a + 8, "w");
            if (!g_out) {
                fprintf(stderr, "ks_icount: cannot open '%s'\n", a + 8);
                return -1;
            }
        } else {
            fprintf(stderr, "ks_icount: unknown argument '%s'\n", a);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
