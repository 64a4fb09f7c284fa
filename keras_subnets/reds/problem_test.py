# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The knapsack costs of a model against Keras' own count of a smaller model built at those widths."""

import math

import keras
import numpy as np
import pytest

from keras_subnets import reds


def _cnn(c1=6, c2=5, d1=7):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(c1, 3, name="c1")(inputs)  # valid: fewer output positions than input
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.DepthwiseConv2D(3, name="dw")(x)
    x = keras.layers.Conv2D(c2, 1, name="c2")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(d1, activation="relu", name="d1")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x))


def _weight_layers(model):
    return [la for la in model.layers if la.name in ("c1", "dw", "c2", "d1", "head")]


def _size(shape):
    return math.prod(int(d) for d in shape[1:])


def _keras_costs(model, per_mac=0.0, per_output=0.0):
    """Costs counted on a built model: Keras' weight shapes and its layers' input and output shapes."""
    layers = _weight_layers(model)
    positions = [_size(la.output.shape) // int(la.output.shape[-1]) for la in layers]
    kernels = [math.prod(la.kernel.shape) for la in layers]
    biases = [math.prod(la.bias.shape) for la in layers]
    macs = [k * p for k, p in zip(kernels, positions, strict=True)]
    return {"weights": sum(kernels), "bytes": sum(kernels) + 4 * sum(biases), "macs": sum(macs),
            "activations": max(_size(la.input.shape) + _size(la.output.shape) for la in layers),
            "latency": sum(per_mac * m + per_output * _size(la.output.shape) for m, la in zip(macs, layers,
                                                                                              strict=True))}


@pytest.mark.parametrize("widths", [dict(c1=6, c2=5, d1=7), dict(c1=4, c2=3, d1=5), dict(c1=1, c2=2, d1=1)])
def test_costs_at_every_width_are_those_of_the_smaller_keras_model(widths):
    model = _cnn()
    importance = reds.magnitude_importance(model)
    latency = {la.name: {"per_mac": 1.5, "per_output": 7.0} for la in _weight_layers(model)}
    problem = reds.build_problem(model, importance, min_units=1, latency_table=latency)
    assert {g.name for g in problem.groups if not g.fixed} == {"c1", "c2", "d1"}  # dw follows c1
    items = dict(problem.full_items(), **widths)
    expected = _keras_costs(_cnn(**widths), per_mac=1.5, per_output=7.0)
    for resource, value in expected.items():
        assert problem.cost(problem.widths(items), resource) == pytest.approx(value), resource


def test_float32_bytes_and_blocks_of_units():
    model = _cnn()
    importance = reds.magnitude_importance(model)
    problem = reds.build_problem(model, importance, block_size=4, bytes_per_weight=4, min_units=3)
    c1 = problem.group("c1")
    np.testing.assert_array_equal(c1.sizes, [4, 2])
    scores = importance["c1"] + importance["dw"]  # dw's channels follow c1's units
    np.testing.assert_allclose(c1.values, [scores[:4].sum(), scores[4:].sum()])
    assert c1.min_units == 3 and problem.group("head").fixed
    expected = _keras_costs(_cnn())
    assert problem.cost(problem.widths(problem.full_items()), "bytes") == 4 * expected["weights"] + 4 * (
        sum(math.prod(la.bias.shape) for la in _weight_layers(model)))


def test_budgets_and_refusals():
    model = _cnn()
    problem = reds.build_problem(model, reds.magnitude_importance(model))
    full = _keras_costs(model)["macs"]
    budgets = reds.budgets_from_fractions(problem, (0.75, 0.25))
    assert [b["macs"] for b in budgets] == pytest.approx([0.25 * full, 0.75 * full])
    with pytest.raises(ValueError, match="'latency' is not available"):
        reds.budgets_from_fractions(problem, (0.5,), resource="latency")
    with pytest.raises(ValueError, match="fraction 1.5 must lie in"):
        reds.budgets_from_fractions(problem, (0.5, 1.5))
    with pytest.raises(ValueError, match="no entry for layer 'd1'"):
        reds.build_problem(model, reds.magnitude_importance(model),
                           latency_table={n: {} for n in ("c1", "dw", "c2", "head")})
