# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The knapsack problem of a Keras model: channel groups, values and cost terms."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np

from keras_subnets import graph
from keras_subnets import knapsack as kn
from keras_subnets.reds.permutation import group_scores

RESOURCES = ("macs", "bytes", "weights", "activations", "latency")


def _positions(layer) -> int:
    shape = layer.output.shape
    return int(np.prod([int(d) for d in shape[1:-1]])) if len(shape) > 2 else 1


def _taps(layer) -> int:
    # Kernel axes before the input-channel axis are the window (none for Dense).
    return int(np.prod([int(d) for d in layer.kernel.shape[:-2]]))


def _in_positions(layer) -> int:
    shape = layer.input.shape
    return int(np.prod([int(d) for d in shape[1:-1]])) if len(shape) > 2 else 1


def build_problem(model: keras.Model, importance: Mapping[str, np.ndarray], *, min_units: int = 8,
                  block_size: int = 1, bytes_per_weight: int = 1,
                  latency_table: Mapping[str, Mapping[str, float]] | None = None) -> kn.Problem:
    """Knapsack items and costs of a model's structured sub-networks.

    One knapsack group per channel group of `graph.trace_channels`: channels
    tied by residual adds and gates are one item each; a consumer of a
    concatenation pays for each member's width separately.

    Args:
        model: a functional Keras model (importance-sorted: see `permute_channels`).
        importance: per-unit importance (`unit_importance`).
        min_units: units each reducible group keeps at least (capped at its size).
        block_size: units per knapsack item (1 = every unit is an item).
        bytes_per_weight: 1 for int8 deployment, 4 for float32.
        latency_table: ``{layer name: {"per_mac": instructions, "per_output": instructions}}``
            (e.g. from benchmarks/kernels.py); enables the ``latency`` resource.

    Resources: ``macs`` (multiply-accumulates per sample), ``bytes`` (kernel
    weights and biases), ``weights`` (kernel weights), ``activations`` (per
    layer, input plus output activation values: the peak is the largest),
    ``latency``.
    """
    channels = graph.trace_channels(model, what="REDS knapsack")
    scores = group_scores(channels, dict(importance))
    kn_groups = []
    for g in channels.groups:
        values = scores[g.name]
        n = len(values)
        starts = list(range(0, n, block_size))
        sizes = np.array([min(block_size, n - s) for s in starts])
        block_values = np.array([values[s:s + block_size].sum() for s in starts])
        kn_groups.append(kn.Group(g.name, block_values, sizes, min_units=min(min_units, n), fixed=g.fixed))
    macs, params, latency, activations, weights = [], [], [], [], []
    for layer in channels.layers:
        pos, taps = _positions(layer), _taps(layer)
        source = channels.inputs[layer.name]
        # Channels read per position of the input: (coefficient, groups) terms, one per segment.
        if graph.is_depthwise(layer):
            layer_macs = [kn.Term(pos * taps * s.repeat, (s.group.name,)) for s in source.segments]
            layer_weights = [kn.Term(taps * s.repeat, (s.group.name,)) for s in source.segments]
            bias = [kn.Term(4 * s.repeat, (s.group.name,)) for s in source.segments] if layer.use_bias else []
            out_terms = [kn.Term(pos * s.repeat, (s.group.name,)) for s in source.segments]
        else:
            out = channels.outputs[layer.name].segments[0].group.name
            layer_macs = [kn.Term(pos * taps * source.tile * s.repeat, (s.group.name, out))
                          for s in source.segments]
            layer_weights = [kn.Term(taps * source.tile * s.repeat, (s.group.name, out)) for s in source.segments]
            bias = [kn.Term(4, (out,))] if layer.use_bias else []
            out_terms = [kn.Term(pos, (out,))]
        macs += layer_macs
        weights += layer_weights
        params += [kn.Term(t.coeff * bytes_per_weight, t.groups) for t in layer_weights] + bias
        in_terms = [kn.Term(_in_positions(layer) * source.tile * s.repeat, (s.group.name,)) for s in source.segments]
        activations.append(in_terms + out_terms)
        if latency_table is not None:
            if layer.name not in latency_table:
                raise ValueError(f"latency table has no entry for layer '{layer.name}'")
            entry = latency_table[layer.name]
            latency += [kn.Term(t.coeff * float(entry.get("per_mac", 0.0)), t.groups) for t in layer_macs]
            latency += [kn.Term(t.coeff * float(entry.get("per_output", 0.0)), t.groups) for t in out_terms]
    constraints = {"macs": [macs], "bytes": [params], "activations": activations, "weights": [weights]}
    if latency_table is not None:
        constraints["latency"] = [latency]
    return kn.Problem(kn_groups, constraints)


def budgets_from_fractions(problem: kn.Problem, fractions, resource: str = "macs") -> list[dict[str, float]]:
    """Absolute budgets from fractions of the dense model's cost, smallest first."""
    if resource not in problem.constraints:
        raise ValueError(f"resource {resource!r} is not available; choose from {sorted(problem.constraints)}")
    full = problem.cost(problem.widths(problem.full_items()), resource)
    fractions = sorted(float(f) for f in fractions)
    for f in fractions:
        if not 0.0 < f <= 1.0:
            raise ValueError(f"budget fraction {f} must lie in (0, 1]")
    return [{resource: f * full} for f in fractions]
