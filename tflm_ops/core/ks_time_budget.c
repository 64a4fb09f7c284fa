// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_governor.h"

uint64_t ks_time_budget(uint32_t microseconds, uint32_t clock_hz, uint32_t cycles_per_100_instructions)
{
    /* cycles = us * Hz / 1e6; instructions = cycles * 100 / cpi100.  us * Hz < 2^64. */
    const uint64_t cycles = (uint64_t)microseconds * clock_hz / 1000000u;
    if (cycles_per_100_instructions == 0) {
        return 0;
    }
    return cycles * 100u / cycles_per_100_instructions;
}
