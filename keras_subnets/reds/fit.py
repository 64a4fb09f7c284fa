# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The REDS workflow in one call: score, permute, solve, nest, fine-tune."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from keras_subnets import knapsack as kn
from keras_subnets import registry
from keras_subnets.callbacks import RecalibrateBatchNorm
from keras_subnets.models import SubnetModel
from keras_subnets.nest import nest
from keras_subnets.reds.importance import magnitude_importance, unit_importance
from keras_subnets.reds.permutation import permute_channels
from keras_subnets.reds.problem import budgets_from_fractions, build_problem


@dataclass
class KnapsackPlan:
    """The nested sub-networks chosen for a model."""

    problem: kn.Problem
    solutions: list[kn.Solution]
    greedy: list[kn.Solution | None]
    budgets: list[dict[str, float]]
    sparsities: list[float]
    widths: dict[str, list[int]]
    drop_order: list = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.solutions)

    @property
    def notes(self) -> list[str]:
        """Levels whose MILP solution lost to greedy (the greedy one was used), one line each."""
        return [f"level {k}: {s.note}" for k, s in enumerate(self.solutions) if s.note]

    def table(self) -> str:
        """Per-level widths, costs, value against greedy (same nesting), solve time and gap.

        ``gap`` is against the solver's proven bound; ``method`` says which
        solution the level uses (``full``: the whole network fits).
        """
        names = [g.name for g in self.problem.groups if not g.fixed]
        resource = next(iter(self.budgets[0]))
        full = self.problem.cost(self.problem.widths(self.problem.full_items()), resource)
        lines = ["level  " + f"{resource + ' budget':>14}  " + "  ".join(f"{n:>8}" for n in names)
                 + "  value(milp)  value(greedy)  solve s   gap  method"]
        for k, (sol, gre, bud) in enumerate(zip(self.solutions, self.greedy, self.budgets, strict=True)):
            lines.append(f"{k:5d}  {bud[resource] / full:14.1%}  " + "  ".join(f"{sol.widths[n]:8d}" for n in names)
                         + f"  {sol.value:11.4g}  " + ("            -" if gre is None else f"{gre.value:13.4g}")
                         + f"  {sol.seconds:7.2f}  " + ("    -" if sol.gap is None else f"{sol.gap:.0e}")
                         + f"  {sol.method}")
        lines += self.notes
        return "\n".join(lines)


def plan(model: keras.Model, fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0), *, resource: str = "macs",
         importance: Mapping[str, np.ndarray] | None = None, block_size: int = 1, min_units: int = 8,
         latency_table: Mapping | None = None, time_limit: float = 60.0, full_network: bool = True) -> KnapsackPlan:
    """Solves the nested knapsack for an importance-sorted model (see `permute_channels`).

    Args:
        fractions: budgets as fractions of the dense model's ``resource``.
        importance: per-unit importance; default weight magnitudes. Only
            ratios matter: the solver works on values scaled to a mean of 1.
        full_network: the densest level is the whole network (every
            channel, sparsity 0), added when ``fractions`` has no 1.0;
            False keeps exactly the given fractions, so the densest level
            may be a sub-network.

    Returns:
        The `KnapsackPlan`; each level's solution is the MILP's, or greedy's
        when the MILP's lost to it (see ``KnapsackPlan.notes``).
    """
    importance = dict(importance) if importance is not None else magnitude_importance(model)
    problem = build_problem(model, importance, min_units=min_units, block_size=block_size,
                            latency_table=latency_table)
    fractions = set(float(f) for f in fractions)
    if full_network:
        fractions |= {1.0}
    fractions = sorted(fractions)
    budgets = budgets_from_fractions(problem, fractions, resource)
    greedy_solutions: list = []
    solutions = kn.solve_nested(problem, budgets, time_limit=time_limit, greedy_solutions=greedy_solutions)
    total = problem.cost(problem.widths(problem.full_items()), "weights")
    sparsities = [1.0 - problem.cost(s.widths, "weights") / total for s in solutions]
    for k in range(1, len(sparsities)):
        if not sparsities[k] < sparsities[k - 1]:
            raise ValueError(f"budgets {fractions[k - 1]} and {fractions[k]} give the same sub-network; "
                             "space the budgets further apart")
    if full_network and sparsities[-1] != 0.0:
        raise AssertionError(f"the densest level keeps {sparsities[-1]:.3f} sparsity; expected the full network")
    reducible = [g.name for g in problem.groups if not g.fixed]
    widths = {name: [s.widths[name] for s in solutions] for name in reducible}
    return KnapsackPlan(problem, solutions, greedy_solutions, budgets, sparsities, widths,
                        kn.drop_order(problem, solutions))


def fit_subnets(
    model: keras.Model,
    x,
    y,
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    *,
    resource: str = "macs",
    importance_batches: int = 100,
    epochs: int = 10,
    batch_size: int = 128,
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
    metrics: Sequence = ("accuracy",),
    validation_data=None,
    callbacks: Sequence = (),
    verbose="auto",
    inner_gradient: float = 1.0,
    level_weights: Sequence[float] | None = None,
    **plan_options,
) -> tuple[SubnetModel, KnapsackPlan]:
    """REDS from a pretrained dense model: importance → permutation → knapsack → joint fine-tuning.

    The input model is not changed. Every level is a prefix of every layer's
    units in importance order, so it runs in place on the kernels; levels
    are trained jointly with REDS's loss weights and per-level BatchNorm
    (recalibrated before each validation and at the end).

    Args:
        model: the pretrained dense Keras model (Sequential or Functional).
        x: training inputs (importance scores, BatchNorm statistics, fine-tuning).
        y: training labels.
        fractions: budgets as fractions of the dense cost, one level each;
            1.0 is the dense level.
        resource: the budgeted cost, as for `budgets_from_fractions`
            (``"macs"``, ``"bytes"``, ...; ``"latency"`` with a
            ``latency_table=`` plan option).
        importance_batches: batches of ``x`` used to score units.
        epochs: joint fine-tuning epochs (0 = only plan and nest).
        batch_size: batch size of scoring and fine-tuning.
        optimizer: Keras optimizer (or name) of the fine-tuning.
        loss: Keras loss (or name).
        metrics: metrics reported per level.
        validation_data: passed to ``fit``.
        callbacks: extra ``fit`` callbacks.
        verbose: ``fit``'s verbosity.
        inner_gradient: `SubnetModel` ``inner_gradient``: the share of each
            level's gradient that reaches the units of smaller levels.
        level_weights: per-level loss weights (default REDS's).
        **plan_options: passed to `plan` (e.g. ``min_units``).

    Returns:
        The trained `SubnetModel` (``kind="structured"``) and its `KnapsackPlan`.
    """
    work = registry.expand_split_layers(model)  # SeparableConv2D: depthwise and pointwise units
    if work is model:
        work = keras.models.clone_model(model)
        work.set_weights(model.get_weights())
    work.compile(optimizer="sgd", loss=loss)
    scores = unit_importance(work, x, y, batches=importance_batches, batch_size=batch_size, loss=keras.losses.get(loss))
    permute_channels(work, scores)
    # Scores follow the permutation: recompute them on the permuted model.
    scores = unit_importance(work, x, y, batches=importance_batches, batch_size=batch_size,
                             loss=keras.losses.get(loss))
    chosen = plan(work, fractions, resource=resource, importance=scores, **plan_options)
    nested = nest(work, chosen.sparsities, kind="structured", widths=chosen.widths,
                  inner_gradient=inner_gradient, level_weights=level_weights)
    nested.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    if epochs:
        nested.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data, verbose=verbose,
                   callbacks=[*callbacks, RecalibrateBatchNorm(x)])
    return nested, chosen
