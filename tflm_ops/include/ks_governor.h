// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Run-time level governor: pick the level to run from the file's level table.
 *
 * A keras-subnets file holds every level; which one to run is the firmware's
 * choice, per inference: the most accurate level whose measured cost fits the
 * budget of this inference (a deadline, an energy or battery budget, a load
 * share).  The costs come from the level table the file carries as its
 * `keras_subnets.level_costs` metadata (docs/format.md §12, binary level
 * table): MACs, weight bytes read, accuracy, and the instructions of a whole
 * Invoke() measured by `keras-subnets profile FILE --target m4 --write`:
 *
 *     ks_level_table table;
 *     keras_subnets::GetLevelTable(model, &table);           // tflm/ks_level_table.h
 *     uint64_t budget = ks_time_budget(5000, 64000000, 100); // 5 ms at 64 MHz, 1 cycle/instruction
 *     int32_t level = ks_select_level(&table, KS_LEVEL_INSTRUCTIONS_M4, budget);
 *     subnet->data.i32[0] = level < 0 ? 0 : level;           // one write, then Invoke()
 *
 * Everything read from the file is validated by ks_level_table_init(); the
 * other functions trust an initialised table.  No allocation.
 */
#ifndef KS_GOVERNOR_H
#define KS_GOVERNOR_H

#include <stddef.h>
#include <stdint.h>

#include "ks_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KS_LEVEL_TABLE_VERSION 1
#define KS_LEVEL_UNKNOWN 0xFFFFFFFFu /* a value not measured */

/* Columns of the table (docs/format.md §12, binary level table). */
typedef enum ks_level_field {
    KS_LEVEL_ACCURACY_PPM = 0,     /* accuracy in parts per million */
    KS_LEVEL_MACS = 1,             /* multiply-accumulates of the pruned layers */
    KS_LEVEL_BYTES_READ = 2,       /* weight and table bytes the level reads */
    KS_LEVEL_INSTRUCTIONS_M4 = 3,  /* whole Invoke(), Cortex-M4 + CMSIS-NN */
    KS_LEVEL_INSTRUCTIONS_M7 = 4   /* whole Invoke(), Cortex-M7 + CMSIS-NN */
} ks_level_field;

typedef struct ks_level_table {
    const uint8_t *data;  /* the metadata bytes (little-endian), not copied */
    int32_t num_levels;
    int32_t num_fields;
} ks_level_table;

/* Checks `bytes` bytes at `data` (magic "KSLT", version, level and field
 * counts, exact size) and fills `table`.  KS_ERR_FORMAT for anything else,
 * KS_ERR_ARG for NULL pointers. */
ks_status ks_level_table_init(ks_level_table *table, const void *data, size_t bytes);

/* The value of `field` at `level`; KS_LEVEL_UNKNOWN when the table has no
 * such column or the level is out of range. */
uint32_t ks_level_value(const ks_level_table *table, int32_t level, ks_level_field field);

/* The level to run under `budget` (in the unit of `cost`): among the levels
 * whose cost is known and <= budget, the most accurate one (highest
 * KS_LEVEL_ACCURACY_PPM; ties go to the cheaper level) when every one of them
 * has an accuracy, else the densest (levels are nested: a denser level holds
 * every weight of a sparser one).  -1 when no level fits (the caller decides:
 * run the cheapest level late, or skip the inference). */
int32_t ks_select_level(const ks_level_table *table, ks_level_field cost, uint64_t budget);

/* Instructions that fit in `microseconds` at `clock_hz` when the core needs
 * `cycles_per_100_instructions` / 100 cycles per instruction (100: one
 * instruction per cycle; measure yours once with the DWT cycle counter). */
uint64_t ks_time_budget(uint32_t microseconds, uint32_t clock_hz, uint32_t cycles_per_100_instructions);

#ifdef __cplusplus
}
#endif
#endif
