"""REDS: importance-ordered structured sub-networks chosen by a nested knapsack."""

from keras_subnets.reds.importance import magnitude_importance, unit_importance
from keras_subnets.reds.permutation import permute_channels
from keras_subnets.reds.problem import budgets_from_fractions, build_problem

__all__ = ["budgets_from_fractions", "build_problem", "magnitude_importance", "permute_channels",
           "unit_importance"]
