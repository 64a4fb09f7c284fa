# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Nested knapsack over computational blocks (REDS), solved as a MILP with HiGHS.

A *group* is a set of channels kept or dropped together (a layer's units and
the depthwise channels and BatchNorm entries tied to them), split into items
(units, or blocks of units) in importance order; every level keeps a prefix of
each group, so every level is a leading block in memory. Costs are sums of
terms that are constant, linear in one group's width, or bilinear in two
widths (a layer's MACs are out-width × in-width × positions). The bilinear
products are linearised exactly with one continuous variable per item of one
of the two groups: ``u_j = x_j · w_a`` (item *j* of group b kept times group a's
width), enforced from below by ``u_j ≥ w_a − |a|·(1 − x_j)``, ``u_j ≥ 0`` — cost
constraints only ever push ``u`` down, so at an optimum ``u_j`` is the product.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse


@dataclass
class Group:
    """Channels kept as a prefix.

    Attributes:
        name: the group's name (its producing layer).
        values: importance of each item, in prefix order.
        sizes: units per item (default 1 each).
        min_units: units every level keeps at least.
        fixed: the group is never reduced (a classifier, the model input).
    """

    name: str
    values: np.ndarray
    sizes: np.ndarray | None = None
    min_units: int = 1
    fixed: bool = False

    def __post_init__(self):
        self.values = np.asarray(self.values, np.float64)
        self.sizes = np.ones(len(self.values), np.int64) if self.sizes is None else np.asarray(self.sizes, np.int64)
        if len(self.sizes) != len(self.values) or np.any(self.sizes < 1):
            raise ValueError(f"group '{self.name}': sizes must be positive, one per item")

    @property
    def units(self) -> int:
        return int(self.sizes.sum())


@dataclass
class Term:
    """``coeff`` × the product of the named groups' widths (0, 1 or 2 names)."""

    coeff: float
    groups: tuple[str, ...] = ()


@dataclass
class Problem:
    """Groups, and cost constraints per resource (each must stay within the resource's budget)."""

    groups: list[Group]
    constraints: dict[str, list[list[Term]]] = field(default_factory=dict)

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def cost(self, widths: Mapping[str, int], resource: str) -> float:
        """Largest constraint value of ``resource`` at the given unit widths."""
        def term_value(t):
            return t.coeff * math.prod(widths[g] for g in t.groups)

        return max(sum(term_value(t) for t in terms) for terms in self.constraints[resource])

    def value(self, items: Mapping[str, int]) -> float:
        return float(sum(self.group(n).values[:k].sum() for n, k in items.items()))

    def widths(self, items: Mapping[str, int]) -> dict[str, int]:
        return {g.name: int(g.sizes[: items[g.name]].sum()) for g in self.groups}

    def full_items(self) -> dict[str, int]:
        return {g.name: len(g.values) for g in self.groups}


@dataclass
class Solution:
    """One level's choice.

    Attributes:
        items: kept items per group.
        widths: kept units per group.
        value: kept importance (the problem's units).
        costs: cost of every resource at these widths.
        seconds: solve time.
        gap: ``(bound - value) / bound``: how far the value can be from the
            optimum, against the solver's proven upper bound (0 when the
            solution is provably optimal; None when no bound is known).
        bound: the solver's upper bound on the value (None for heuristics).
        method: ``"milp"``, ``"greedy"``, ``"full"`` (the whole network fits
            the budget), ``"brute_force"``.
        note: why this solution was chosen over another (e.g. the MILP's
            solution lost to greedy), else empty.
    """

    items: dict[str, int]
    widths: dict[str, int]
    value: float
    costs: dict[str, float]
    seconds: float
    gap: float | None = None
    method: str = "milp"
    bound: float | None = None
    note: str = ""


class InfeasibleBudget(ValueError):
    """No prefix of the groups fits the budget."""


def _min_items(g: Group) -> int:
    if g.fixed:
        return len(g.values)
    return int(np.searchsorted(np.cumsum(g.sizes), min(g.min_units, g.units)) + 1) if g.min_units > 0 else 0


def _fits(problem: Problem, widths: Mapping[str, int], budgets: Mapping[str, float]) -> bool:
    return all(problem.cost(widths, r) <= b * (1 + 1e-12) + 1e-9 for r, b in budgets.items())


def value_scale(problem: Problem) -> float:
    """The mean value of a reducible item (1 when there is none or all are 0).

    The MILP's objective is divided by it, so item values are of order 1 and
    HiGHS's absolute tolerances (1e-6) stay far below one item's value:
    gradient importances of order 1e-14 otherwise make every feasible point
    look optimal.
    """
    values = [g.values for g in problem.groups if not g.fixed and len(g.values)]
    if not values:
        return 1.0
    mean = float(np.mean(np.abs(np.concatenate(values))))
    return mean if mean > 0 and np.isfinite(mean) else 1.0


def solve(problem: Problem, budgets: Mapping[str, float], lower: Mapping[str, int] | None = None,
          time_limit: float = 60.0) -> Solution:
    """Maximises kept importance within every budget (MILP, HiGHS via scipy).

    When the whole network fits the budgets it is the answer (values are
    non-negative), with no solve: the densest level keeps every channel.
    Values are rescaled to a mean item value of 1 for the solve (`value_scale`);
    the solution reports them in the problem's units, with the gap against
    the solver's proven bound.

    Args:
        problem: groups and cost constraints.
        budgets: ``{resource: budget}``; resources not named are unconstrained.
        lower: items of each group that must stay (nesting: the previous,
            smaller level's solution).
        time_limit: HiGHS time limit in seconds.

    Raises:
        InfeasibleBudget: saying which budget is below the minimum model.
    """
    start = time.perf_counter()
    lower = dict(lower or {})
    for resource in budgets:
        if resource not in problem.constraints:
            raise ValueError(f"unknown resource {resource!r}; the problem has {sorted(problem.constraints)}")
    full = problem.full_items()
    if _fits(problem, problem.widths(full), budgets) and all(np.all(g.values >= 0) for g in problem.groups):
        return _solution(problem, full, start, gap=0.0, method="full", bound=problem.value(full))
    unit = value_scale(problem)
    milp = _Milp(problem)
    milp.add_items(lower, unit)
    milp.add_prefix_rows()
    milp.add_budget_rows(budgets)
    result = milp.run(time_limit)
    if result.x is None:
        raise _infeasible(problem, budgets, lower)
    items = milp.kept_items(result.x)
    items, filled = fill(problem, items, budgets)
    bound, gap = _bound_and_gap(result, unit, problem.value(items))
    note = (f"{filled} item(s) the MILP left out (value 0 or within HiGHS's tolerance of it) added while the "
            "budget allowed" if filled else "")
    return _solution(problem, items, start, gap=gap, bound=bound, note=note)


def fill(problem: Problem, items: Mapping[str, int], budgets: Mapping[str, float]) -> tuple[dict[str, int], int]:
    """Adds items to a solution while every budget still holds.

    Items scoring 0 (a unit whose ReLU never fired on the scoring batches, or
    far below HiGHS's tolerances next to the largest ones: gradient
    importances of a deep MobileNetV2 span nine orders of magnitude) are worth
    nothing to the MILP, which then may leave a quarter of a budget unspent:
    a "75 % of the MACs" level came out at 48 %. Values are non-negative, so
    adding an item never lowers the value; the next item of the group with the
    most value per unit of added cost goes first, ties to the group keeping the
    smallest share of its units (widths grow evenly rather than one layer
    first).

    Returns:
        The filled items and how many were added.
    """
    items = dict(items)
    groups = [g for g in problem.groups if not g.fixed]

    def costs(its):
        widths = problem.widths(its)
        return {r: problem.cost(widths, r) for r in budgets}

    current = costs(items)
    added = 0
    while True:
        best, best_key, best_costs = None, None, None
        for g in groups:
            k = items[g.name]
            if k >= len(g.values) or g.values[k] < 0:
                continue
            trial = dict(items)
            trial[g.name] = k + 1
            after = costs(trial)
            if not all(after[r] <= b * (1 + 1e-12) + 1e-9 for r, b in budgets.items()):
                continue
            extra = sum((after[r] - current[r]) / max(abs(b), 1e-300) for r, b in budgets.items())
            key = (-float(g.values[k]) / extra if extra > 0 else -math.inf, int(g.sizes[:k].sum()) / g.units)
            if best_key is None or key < best_key:
                best, best_key, best_costs = g.name, key, after
        if best is None:
            return items, added
        items[best] += 1
        current = best_costs
        added += 1


def _solution(problem: Problem, items: dict[str, int], start: float | None, **kwargs) -> Solution:
    """The `Solution` keeping ``items``, timed from ``start`` (None: not timed)."""
    widths = problem.widths(items)
    seconds = 0.0 if start is None else time.perf_counter() - start
    return Solution(items, widths, problem.value(items), {r: problem.cost(widths, r) for r in problem.constraints},
                    seconds, **kwargs)


class _Milp:
    """`solve`'s MILP: one binary variable per item, prefix rows, one row per cost constraint.

    Bilinear cost terms get their product variables (`pair`) when the first
    constraint needing them is added.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.index: dict[tuple[str, int], int] = {}
        self.c: list[float] = []
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integrality: list[int] = []
        self.rows: list[dict[int, float]] = []
        self.row_lb: list[float] = []
        self.row_ub: list[float] = []
        self.pairs: dict[tuple[str, str], list[int]] = {}

    def add_variable(self, cost: float, lo: float, hi: float, integer: bool) -> int:
        self.c.append(cost)
        self.lb.append(lo)
        self.ub.append(hi)
        self.integrality.append(int(integer))
        return len(self.c) - 1

    def add_row(self, coeffs: dict[int, float], lo: float, hi: float):
        self.rows.append(coeffs)
        self.row_lb.append(lo)
        self.row_ub.append(hi)

    def add_items(self, lower: Mapping[str, int], unit: float):
        """x_{g,i}: item i of group g is kept; the first ``max(min, lower)`` items of each group always are."""
        for g in self.problem.groups:
            keep = max(_min_items(g), lower.get(g.name, 0))
            for i, v in enumerate(g.values):
                self.index[(g.name, i)] = self.add_variable(-v / unit, 1.0 if i < keep else 0.0, 1.0, True)

    def add_prefix_rows(self):
        """x_{i+1} <= x_i: every level keeps a prefix of each group."""
        for g in self.problem.groups:
            for i in range(len(g.values) - 1):
                self.add_row({self.index[(g.name, i + 1)]: 1.0, self.index[(g.name, i)]: -1.0}, -np.inf, 0.0)

    def pair(self, a: str, b: str) -> list[int]:
        """Variables u_j = x_{b,j} * width(a), one per item j of b."""
        if (a, b) not in self.pairs:
            ga, gb = self.problem.group(a), self.problem.group(b)
            table = []
            for j in range(len(gb.values)):
                u = self.add_variable(0.0, 0.0, float(ga.units), False)
                table.append(u)
                # u_j - width(a) - |a| x_j >= -|a|
                coeffs = {u: 1.0, self.index[(b, j)]: -float(ga.units)}
                for i, size in enumerate(ga.sizes):
                    coeffs[self.index[(a, i)]] = coeffs.get(self.index[(a, i)], 0.0) - float(size)
                self.add_row(coeffs, -float(ga.units), np.inf)
            self.pairs[(a, b)] = table
        return self.pairs[(a, b)]

    def add_budget_rows(self, budgets: Mapping[str, float]):
        """One row per cost constraint of each budgeted resource: its variable part within budget - constant."""
        for resource, budget in budgets.items():
            for terms in self.problem.constraints[resource]:
                coeffs, constant = self._linear_cost(terms)
                self.add_row(coeffs, -np.inf, budget - constant)

    def _linear_cost(self, terms: Sequence[Term]) -> tuple[dict[int, float], float]:
        """``terms`` as coefficients of the variables plus a constant (fixed groups count at full width)."""
        problem = self.problem
        coeffs: dict[int, float] = {}
        constant = 0.0
        for t in terms:
            free = [n for n in t.groups if not problem.group(n).fixed]
            scale = t.coeff * math.prod(problem.group(n).units for n in t.groups if problem.group(n).fixed)
            if not free:
                constant += scale
            elif len(free) == 1:
                g = problem.group(free[0])
                for i, s in enumerate(g.sizes):
                    k = self.index[(g.name, i)]
                    coeffs[k] = coeffs.get(k, 0.0) + scale * s
            else:
                # Linearise over the group with fewer items.
                a, b = sorted(free, key=lambda n: (-len(problem.group(n).values), n))
                gb = problem.group(b)
                for j, k in enumerate(self.pair(a, b)):
                    coeffs[k] = coeffs.get(k, 0.0) + scale * gb.sizes[j]
        return coeffs, constant

    def run(self, time_limit: float):
        """HiGHS's result (``x`` is None when no point is feasible)."""
        matrix = sparse.lil_matrix((len(self.rows), len(self.c)))
        for r, coeffs in enumerate(self.rows):
            for k, v in coeffs.items():
                matrix[r, k] = v
        constraints = optimize.LinearConstraint(matrix.tocsr(), self.row_lb, self.row_ub) if self.rows else ()
        return optimize.milp(np.asarray(self.c), constraints=constraints, integrality=np.asarray(self.integrality),
                             bounds=optimize.Bounds(self.lb, self.ub),
                             options={"time_limit": time_limit, "mip_rel_gap": 1e-9, "presolve": True})

    def kept_items(self, x: np.ndarray) -> dict[str, int]:
        return {g.name: int(round(sum(x[self.index[(g.name, i)]] for i in range(len(g.values)))))
                for g in self.problem.groups}


def _infeasible(problem: Problem, budgets: Mapping[str, float], lower: Mapping[str, int]) -> InfeasibleBudget:
    """The error naming what the smallest allowed sub-network costs."""
    minimum = {g.name: max(_min_items(g), lower.get(g.name, 0)) for g in problem.groups}
    widths = problem.widths(minimum)
    smallest = {r: problem.cost(widths, r) for r in budgets}
    return InfeasibleBudget(
        f"no sub-network fits budgets {dict(budgets)}: the smallest allowed one (minimum widths"
        f"{' and the previous level' if lower else ''}) costs {smallest}; raise the budget or lower "
        "min_units"
    )


def _bound_and_gap(result, unit: float, value: float) -> tuple[float | None, float | None]:
    """HiGHS's proven upper bound on the value, in the problem's units, and the gap to it (None: no bound)."""
    dual = getattr(result, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        return None, None
    # The objective is minimised, so -dual bounds the scaled value from above; an incumbent
    # within HiGHS's tolerances of it (or a rounded one) can sit a hair above it.
    bound = max(-float(dual) * unit, value)
    return bound, (bound - value) / bound if bound > 0 else 0.0


def solve_nested(problem: Problem, budgets: Sequence[Mapping[str, float]], time_limit: float = 60.0,
                 *, compare_greedy: bool = True, greedy_solutions: list | None = None) -> list[Solution]:
    """REDS's iterative bottom-up knapsack: smallest budget first, each solution kept by the next.

    Every level's MILP solution is checked against `greedy` under the same
    nesting constraint: should the MILP lose (a time limit, numerical
    trouble), the greedy solution is used, its ``note`` says so and a
    warning is issued.

    Args:
        budgets: one ``{resource: budget}`` per level, smallest first.
        time_limit: HiGHS time limit per level.
        compare_greedy: run the greedy check.
        greedy_solutions: when a list, receives the greedy solution of every
            level (None where greedy finds none).
    """
    solutions, lower = [], {}
    for budget in budgets:
        solution = solve(problem, budget, lower, time_limit)
        if compare_greedy and solution.method != "full":
            try:
                heuristic = greedy(problem, budget, lower)
            except InfeasibleBudget:
                heuristic = None
            if greedy_solutions is not None:
                greedy_solutions.append(heuristic)
            solution = better_of(solution, heuristic, budget)
        elif greedy_solutions is not None:
            greedy_solutions.append(solution if solution.method == "full" else None)
        solutions.append(solution)
        lower = solution.items
    return solutions


def better_of(milp_solution: Solution, heuristic: Solution | None, budget: Mapping[str, float]) -> Solution:
    """The MILP's solution unless ``heuristic`` keeps more value (then flagged and warned about).

    A win by less than a millionth of the value is not a loss: it is below
    what HiGHS resolves once the values span many orders of magnitude (a
    MobileNetV2's gradient importances do), and `fill`'s items after the MILP
    are chosen greedily.
    """
    if heuristic is None:
        return milp_solution
    tolerance = 1e-6 * max(abs(heuristic.value), abs(milp_solution.value), 1e-300)
    if heuristic.value <= milp_solution.value + tolerance:
        return milp_solution
    note = (f"the MILP solution (value {milp_solution.value:.6g}, gap {milp_solution.gap}) lost to greedy "
            f"(value {heuristic.value:.6g}) at budget {dict(budget)}; greedy's is used")
    warnings.warn(f"knapsack: {note}", RuntimeWarning, stacklevel=3)
    chosen = Solution(dict(heuristic.items), dict(heuristic.widths), heuristic.value, dict(heuristic.costs),
                      milp_solution.seconds + heuristic.seconds, gap=None, method="greedy",
                      bound=milp_solution.bound, note=note)
    if chosen.bound is not None and chosen.bound >= chosen.value:
        chosen.gap = (chosen.bound - chosen.value) / chosen.bound if chosen.bound > 0 else 0.0
    return chosen


def greedy(problem: Problem, budgets: Mapping[str, float], lower: Mapping[str, int] | None = None) -> Solution:
    """Baseline: drop the tail item with the least value per unit of cost saved until everything fits."""
    start = time.perf_counter()
    lower = dict(lower or {})
    items = problem.full_items()
    floor = {g.name: max(_min_items(g), lower.get(g.name, 0)) for g in problem.groups}

    def over(its):
        w = problem.widths(its)
        return {r: problem.cost(w, r) - b for r, b in budgets.items()}

    excess = over(items)
    while any(v > 1e-9 for v in excess.values()):
        best, best_ratio = None, math.inf
        for g in problem.groups:
            if items[g.name] <= floor[g.name]:
                continue
            trial = dict(items)
            trial[g.name] -= 1
            saved = sum(max(0.0, excess[r]) - max(0.0, v) for r, v in over(trial).items())
            if saved <= 0:
                continue
            ratio = g.values[items[g.name] - 1] / saved
            if ratio < best_ratio:
                best, best_ratio = g.name, ratio
        if best is None:
            raise InfeasibleBudget(f"greedy: nothing left to drop and budgets {dict(budgets)} still exceeded")
        items[best] -= 1
        excess = over(items)
    return _solution(problem, items, start, method="greedy")


def brute_force(problem: Problem, budgets: Mapping[str, float], lower: Mapping[str, int] | None = None
                ) -> Solution | None:
    """Exhaustive search over all prefixes (tests and tiny problems only)."""
    lower = dict(lower or {})
    choices = [range(max(_min_items(g), lower.get(g.name, 0)), len(g.values) + 1) for g in problem.groups]
    best = None
    for combo in itertools.product(*choices):
        items = {g.name: k for g, k in zip(problem.groups, combo, strict=True)}
        widths = problem.widths(items)
        if all(problem.cost(widths, r) <= b + 1e-9 for r, b in budgets.items()):
            value = problem.value(items)
            if best is None or value > best.value + 1e-12:
                best = _solution(problem, items, None, method="brute_force")
    return best


def drop_order(problem: Problem, solutions: Sequence[Solution]) -> list[list[tuple[str, int, int]]]:
    """Blocks dropped between consecutive levels, from the densest downwards.

    Returns:
        For each step from level k+1 to level k (densest first), the list of
        ``(group, first unit, last unit + 1)`` ranges that stop being computed.
    """
    steps = []
    ordered = list(solutions)
    for big, small in zip(ordered[::-1][:-1], ordered[::-1][1:], strict=True):
        step = []
        for g in problem.groups:
            if small.widths[g.name] < big.widths[g.name]:
                step.append((g.name, small.widths[g.name], big.widths[g.name]))
        steps.append(step)
    return steps
