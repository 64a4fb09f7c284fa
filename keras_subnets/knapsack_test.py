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
