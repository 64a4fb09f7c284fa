// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_plan.h"

int32_t ks_plan_scratch_size(const ks_plan *p)
{
    return p->scratch_size;
}
