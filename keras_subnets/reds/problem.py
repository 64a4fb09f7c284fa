"""The knapsack problem of a Keras model: channel groups, values and cost terms."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np

from keras_subnets import graph, registry
from keras_subnets import knapsack as kn
from keras_subnets.reds.permutation import group_scores

RESOURCES = ("macs", "bytes", "weights", "activations", "latency")


def _positions(layer) -> int:
    shape = layer.output.shape
    return int(np.prod([int(d) for d in shape[1:-1]])) if len(shape) > 2 else 1


def _taps(layer) -> int:
    return registry.lookup(layer, exact=False).taps(layer.kernel.shape)


def build_problem(model: keras.Model, importance: Mapping[str, np.ndarray], *, min_units: int = 8,
                  block_size: int = 1, bytes_per_weight: int = 1,
                  latency_table: Mapping[str, Mapping[str, float]] | None = None) -> kn.Problem:
    """Knapsack items and costs of a model's structured sub-networks.

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
    layer, input plus output activation bytes: the peak is the largest),
    ``latency``.
    """
    groups, inputs_of = graph.channel_groups(model, what="REDS knapsack")
    scores = group_scores(groups, dict(importance))
    kn_groups = []
    for g in groups:
        values = scores[g.name]
        fixed = not g.consumers  # a classifier keeps every output
        n = len(values)
        starts = list(range(0, n, block_size))
        sizes = np.array([min(block_size, n - s) for s in starts])
        block_values = np.array([values[s:s + block_size].sum() for s in starts])
        kn_groups.append(kn.Group(g.name, block_values, sizes, min_units=min(min_units, n), fixed=fixed))
    model_input = model.inputs[0]
    in_channels = int(model_input.shape[-1])
    kn_groups.append(kn.Group("input", np.zeros(in_channels), fixed=True, min_units=0))
    macs, params, latency, activations, weights = [], [], [], [], []
    input_positions = int(np.prod([int(d) for d in model_input.shape[1:-1]]))
    for g in groups:
        for layer in [g.producer, *g.depthwise]:
            pos, taps = _positions(layer), _taps(layer)
            if graph.is_depthwise(layer):
                width_terms = (g.name,)
                layer_macs = [kn.Term(pos * taps, width_terms)]
                layer_params = [kn.Term(taps * bytes_per_weight + (4 if layer.use_bias else 0), width_terms)]
                weights.append(kn.Term(taps, width_terms))
                in_terms = (g.name,)
                in_positions = _positions(layer) if layer.input is None else int(
                    np.prod([int(d) for d in layer.input.shape[1:-1]]))
            else:
                upstream, tile = inputs_of[layer.name]
                in_name = upstream.name
                layer_macs = [kn.Term(pos * taps * tile, (in_name, g.name))]
                layer_params = [kn.Term(taps * tile * bytes_per_weight, (in_name, g.name))]
                weights.append(kn.Term(taps * tile, (in_name, g.name)))
                if layer.use_bias:
                    layer_params.append(kn.Term(4, (g.name,)))
                in_terms = (in_name,)
                in_shape = layer.input.shape
                in_positions = int(np.prod([int(d) for d in in_shape[1:-1]])) if len(in_shape) > 2 else 1
                in_positions = in_positions if in_name != "input" else input_positions
            macs += layer_macs
            params += layer_params
            activations.append([kn.Term(in_positions, in_terms), kn.Term(pos, (g.name,))])
            if latency_table is not None:
                if layer.name not in latency_table:
                    raise ValueError(f"latency table has no entry for layer '{layer.name}'")
                entry = latency_table[layer.name]
                latency += [kn.Term(t.coeff * float(entry.get("per_mac", 0.0)), t.groups) for t in layer_macs]
                latency.append(kn.Term(pos * float(entry.get("per_output", 0.0)), (g.name,)))
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
