# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import numpy as np
import pytest

from keras_subnets import knapsack as kn


def _random_problem(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 5, size=3)
    groups = [kn.Group(f"g{i}", np.sort(rng.uniform(0.1, 1.0, size=n))[::-1], min_units=1)
              for i, n in enumerate(sizes)]
    groups.append(kn.Group("head", np.zeros(3), fixed=True))
    macs = [kn.Term(float(rng.integers(1, 9)), ("g0",)),
            kn.Term(float(rng.integers(1, 9)), ("g0", "g1")),
            kn.Term(float(rng.integers(1, 9)), ("g1", "g2")),
            kn.Term(float(rng.integers(1, 9)), ("g2", "head")), kn.Term(5.0)]
    acts = [[kn.Term(2.0, ("g0",)), kn.Term(1.0, ("g1",))], [kn.Term(1.0, ("g1",)), kn.Term(3.0, ("g2",))]]
    return kn.Problem(groups, {"macs": [macs], "activations": acts})


@pytest.mark.parametrize("seed", range(8))
def test_milp_is_optimal_against_brute_force(seed):
    problem = _random_problem(seed)
    full = problem.cost(problem.widths(problem.full_items()), "macs")
    for fraction in (0.3, 0.55, 0.8):
        budget = {"macs": fraction * full}
        exact = kn.brute_force(problem, budget)
        if exact is None:
            with pytest.raises(kn.InfeasibleBudget):
                kn.solve(problem, budget)
            continue
        milp = kn.solve(problem, budget)
        assert milp.value == pytest.approx(exact.value, abs=1e-9)
        assert milp.costs["macs"] <= budget["macs"] + 1e-6
        assert kn.greedy(problem, budget).value <= exact.value + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_multiple_resources_and_nesting(seed):
    problem = _random_problem(seed)
    full = {r: problem.cost(problem.widths(problem.full_items()), r) for r in ("macs", "activations")}
    budgets = [{"macs": f * full["macs"], "activations": (f + 0.1) * full["activations"]} for f in (0.5, 0.7, 1.0)]
    try:
        solutions = kn.solve_nested(problem, budgets)
    except kn.InfeasibleBudget:
        return
    for small, big in zip(solutions, solutions[1:], strict=False):
        assert all(small.widths[g] <= big.widths[g] for g in small.widths)  # nested prefixes
    for s, b in zip(solutions, budgets, strict=True):
        assert all(s.costs[r] <= b[r] + 1e-6 for r in b)
        k = solutions.index(s)
        exact = kn.brute_force(problem, b, lower=solutions[k - 1].items if k else None)
        assert s.value == pytest.approx(exact.value, abs=1e-9)
    steps = kn.drop_order(problem, solutions)
    assert len(steps) == 2
    for group, start, end in steps[0]:
        assert solutions[1].widths[group] == start and solutions[2].widths[group] == end


def test_blocks_and_fixed_groups():
    groups = [kn.Group("a", [5.0, 3.0, 1.0], sizes=[4, 4, 2]), kn.Group("b", np.zeros(2), fixed=True)]
    problem = kn.Problem(groups, {"macs": [[kn.Term(1.0, ("a", "b"))]]})
    solution = kn.solve(problem, {"macs": 16.0})
    assert solution.widths == {"a": 8, "b": 2}
    assert problem.full_items() == {"a": 3, "b": 2}


def test_infeasible_budget_says_what_it_costs():
    groups = [kn.Group("a", [1.0, 1.0], min_units=2)]
    problem = kn.Problem(groups, {"macs": [[kn.Term(10.0, ("a",))]]})
    with pytest.raises(kn.InfeasibleBudget, match="costs"):
        kn.solve(problem, {"macs": 5.0})
    with pytest.raises(ValueError, match="unknown resource"):
        kn.solve(problem, {"latency": 5.0})


@pytest.mark.parametrize("seed", range(8))
def test_tiny_values_give_the_same_optimum_and_an_honest_gap(seed):
    """Gradient importances can be ~1e-14: the solve must not fall inside HiGHS's absolute tolerances."""
    problem = _random_problem(seed)
    for g in problem.groups:
        g.values = g.values * 1e-14
    full = problem.cost(problem.widths(problem.full_items()), "macs")
    for fraction in (0.3, 0.55, 0.8):
        budget = {"macs": fraction * full}
        exact = kn.brute_force(problem, budget)
        if exact is None:
            continue
        milp = kn.solve(problem, budget)
        assert milp.value == pytest.approx(exact.value, rel=1e-9)
        # The bound is the solver's: never below the true optimum, and the gap is measured against it.
        assert milp.bound >= exact.value * (1 - 1e-9)
        assert milp.gap == pytest.approx((milp.bound - milp.value) / milp.bound, abs=1e-15)
        assert 0.0 <= milp.gap < 1e-6


def test_a_budget_the_whole_network_fits_keeps_every_item():
    groups = [kn.Group("a", [1e-15, 0.0, 0.0]), kn.Group("b", [2e-15, 1e-16]), kn.Group("head", np.zeros(2),
                                                                                        fixed=True)]
    problem = kn.Problem(groups, {"macs": [[kn.Term(3.0, ("a", "b")), kn.Term(1.0, ("b", "head"))]]})
    full = problem.cost(problem.widths(problem.full_items()), "macs")
    solutions = kn.solve_nested(problem, [{"macs": 0.5 * full}, {"macs": full}])
    assert solutions[-1].items == problem.full_items() and solutions[-1].method == "full"
    assert solutions[-1].gap == 0.0


def test_a_milp_solution_that_loses_to_greedy_is_flagged_and_replaced(monkeypatch):
    problem = _random_problem(0)
    full = problem.cost(problem.widths(problem.full_items()), "macs")
    budgets = [{"macs": 0.6 * full}, {"macs": full}]
    honest = kn.solve

    def poor(problem, budget, lower=None, time_limit=60.0):
        # A MILP that stopped early at its first incumbent: the smallest allowed network.
        solution = honest(problem, budget, lower, time_limit)
        if solution.method == "full":
            return solution
        items = {g.name: max(kn._min_items(g), (lower or {}).get(g.name, 0)) for g in problem.groups}
        widths = problem.widths(items)
        return kn.Solution(items, widths, problem.value(items), {r: problem.cost(widths, r)
                                                                 for r in problem.constraints},
                           0.0, gap=0.9, bound=solution.bound)

    monkeypatch.setattr(kn, "solve", poor)
    greedy_solutions = []
    with pytest.warns(RuntimeWarning, match="lost to greedy"):
        solutions = kn.solve_nested(problem, budgets, greedy_solutions=greedy_solutions)
    expected = kn.greedy(problem, budgets[0])
    assert solutions[0].method == "greedy" and "lost to greedy" in solutions[0].note
    assert solutions[0].items == expected.items and greedy_solutions[0].items == expected.items
    assert solutions[1].method == "full"


def _no_item_fits(problem, solution, budget):
    for g in problem.groups:
        if g.fixed or solution.items[g.name] >= len(g.values):
            continue
        trial = dict(solution.items)
        trial[g.name] += 1
        widths = problem.widths(trial)
        if all(problem.cost(widths, r) <= b + 1e-9 for r, b in budget.items()):
            return g.name
    return None


@pytest.mark.parametrize("fraction", [0.5, 0.75, 0.9])
def test_a_level_spends_its_budget_when_the_rest_scores_zero(fraction):
    # MobileNetV2's dead ReLU6 units score exactly 0: the MILP alone left a 75 % MAC level at 48 %.
    values = np.array([5.0, 3.0, 1.0] + [0.0] * 13)
    problem = kn.Problem([kn.Group("a", values.copy(), min_units=2), kn.Group("b", values.copy(), min_units=2)],
                         {"macs": [[kn.Term(3.0, ("a",)), kn.Term(2.0, ("a", "b")), kn.Term(1.0, ("b",))]]})
    full = problem.cost(problem.widths(problem.full_items()), "macs")
    budget = {"macs": fraction * full}
    solution = kn.solve(problem, budget)
    exact = kn.brute_force(problem, budget)
    assert solution.value == pytest.approx(exact.value)
    assert solution.costs["macs"] <= budget["macs"] + 1e-6
    assert _no_item_fits(problem, solution, budget) is None, (solution.widths, solution.costs, budget)
    assert solution.costs["macs"] > 0.85 * budget["macs"]
    assert "added while the budget allowed" in solution.note
    # Filling is even: neither group is left at its minimum while the other takes the budget.
    assert min(solution.widths.values()) > 3


def test_greedy_winning_by_less_than_the_solvers_resolution_is_not_a_loss():
    problem = _random_problem(1)
    full = problem.cost(problem.widths(problem.full_items()), "macs")
    budget = {"macs": 0.7 * full}
    milp = kn.solve(problem, budget)
    close = kn.Solution(dict(milp.items), dict(milp.widths), milp.value * (1 + 1e-8), dict(milp.costs), 0.0,
                        method="greedy")
    far = kn.Solution(dict(milp.items), dict(milp.widths), milp.value * (1 + 1e-4), dict(milp.costs), 0.0,
                      method="greedy")
    assert kn.better_of(milp, close, budget) is milp
    with pytest.warns(RuntimeWarning, match="lost to greedy"):
        assert kn.better_of(milp, far, budget).method == "greedy"
