// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_plan.h"

ks_status ks_run_s8(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output, void *scratch)
{
    return p->run(p, level, input, output, scratch);
}
