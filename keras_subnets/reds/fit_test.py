# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import pytest

import keras_subnets as ks
from keras_subnets import reds
from keras_subnets.demo import load_scaled


@pytest.fixture(scope="module")
def data():
    return load_scaled(train_samples=512, test_samples=64)


def test_knapsack_costs_agree_with_the_nested_model_and_levels_are_nested():
    base = ks.zoo.ds_cnn_s()
    chosen = reds.plan(base, (0.25, 0.5, 0.75))
    assert [round(b["macs"] / chosen.budgets[-1]["macs"], 2) for b in chosen.budgets] == [0.25, 0.5, 0.75, 1.0]
    assert all(s.gap is None or s.gap < 1e-6 for s in chosen.solutions)
    assert chosen.seconds < 30
    model = ks.nest(base, chosen.sparsities, kind="structured", widths=chosen.widths)
    for k, solution in enumerate(chosen.solutions):
        costs = ks.level_costs(model, k)
        assert costs["macs"] == pytest.approx(solution.costs["macs"])  # two independent counts agree
        assert costs["macs"] <= chosen.budgets[k]["macs"] + 1e-6
        lower = chosen.solutions[k - 1].items if k else None  # same nesting constraint for both
        assert solution.value + 1e-9 >= ks.knapsack.greedy(chosen.problem, chosen.budgets[k], lower).value
    for name, widths in chosen.widths.items():
        assert widths == sorted(widths) and widths[-1] == model.get_layer(name).kernel.shape[-1]
    assert "value(milp)" in chosen.table()


def test_infeasible_budget_is_explained():
    base = ks.zoo.ds_cnn_s()
    with pytest.raises(ks.knapsack.InfeasibleBudget, match="raise the budget"):
        reds.plan(base, (0.01,), min_units=32)


def test_fit_subnets_end_to_end(data):
    (x, y), (x_test, y_test) = data
    base = ks.zoo.ds_cnn_s()
    base.compile("adam", "sparse_categorical_crossentropy")
    base.fit(x, y, epochs=1, verbose=0)
    model, chosen = reds.fit_subnets(base, x, y, (0.5,), importance_batches=2, epochs=1, verbose=0,
                                     inner_gradient=0.25, level_weights=[0.7, 0.3])
    assert model.levels == chosen.sparsities and len(model.levels) == 2
    assert model.inner_gradient == 0.25 and list(model.level_weights) == pytest.approx([0.7, 0.3])
    rows = ks.evaluate_levels(model, x_test, y_test, print_table=False)
    assert rows[0]["macs"] < rows[1]["macs"] and rows[0]["macs"] <= 0.5 * rows[1]["macs"] + 1


def _mlp():
    return keras.Sequential([keras.Input((32,)), keras.layers.Dense(256, activation="relu", name="h1"),
                             keras.layers.Dense(256, activation="relu", name="h2"),
                             keras.layers.Dense(10, name="out")])


@pytest.mark.parametrize("build", [ks.zoo.ds_cnn_s, _mlp])
def test_densest_level_is_the_full_network_and_importance_scale_does_not_matter(build):
    """Gradient importances are tiny (~1e-14 on MobileNetV1): the plan must not depend on their scale."""
    keras.utils.set_random_seed(3)
    base = build()
    importance = reds.magnitude_importance(base)
    plans = [reds.plan(base, (0.3, 0.6), importance={n: v * s for n, v in importance.items()})
             for s in (1.0, 1e-14)]
    for chosen in plans:
        assert chosen.sparsities[-1] == 0.0
        for name, widths in chosen.widths.items():
            assert widths[-1] == base.get_layer(name).kernel.shape[-1], name
        for k, (solution, heuristic) in enumerate(zip(chosen.solutions, chosen.greedy, strict=True)):
            assert heuristic is None or solution.value >= heuristic.value * (1 - 1e-9), k
            assert solution.gap is not None and 0.0 <= solution.gap < 1e-6
    assert plans[0].widths == plans[1].widths
    assert plans[0].sparsities == pytest.approx(plans[1].sparsities)


def test_the_densest_level_can_be_a_subnetwork_when_asked():
    chosen = reds.plan(_mlp(), (0.3, 0.8), full_network=False)
    assert len(chosen.solutions) == 2 and chosen.sparsities[-1] > 0.1
