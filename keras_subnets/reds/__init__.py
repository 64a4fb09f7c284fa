# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""REDS: importance-ordered structured sub-networks chosen by a nested knapsack."""

from keras_subnets.reds.fit import KnapsackPlan, fit_subnets, plan
from keras_subnets.reds.importance import magnitude_importance, unit_importance
from keras_subnets.reds.permutation import permute_channels
from keras_subnets.reds.problem import budgets_from_fractions, build_problem

__all__ = ["KnapsackPlan", "budgets_from_fractions", "build_problem", "fit_subnets", "magnitude_importance",
           "permute_channels", "plan", "unit_importance"]
