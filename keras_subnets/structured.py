"""Unit-prefix planning for ``structured`` levels over a functional graph.

A structured level keeps the leading units of every layer. Whether an input
channel of a layer is active depends on the layer upstream of it, so widths
are planned over the graph: depthwise layers follow their input's width,
classifier layers keep all of their units, and the remaining layers share one
width multiplier per level, chosen so that the level removes the requested
fraction of kernel weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from keras_subnets import graph, registry
from keras_subnets import masks as masks_lib
from keras_subnets.layers import SubnetLayerMixin


@dataclass
class _Node:
    layer: SubnetLayerMixin
    source: SubnetLayerMixin | None  # upstream weight layer, None = model input
    tile: int  # >1 when a Flatten spreads each channel over `tile` positions
    in_channels: int
    taps: int  # weights per (output unit, input channel) pair


def _trace_source(layer) -> tuple[SubnetLayerMixin | None, int]:
    source, tile, _ = graph.trace_source(layer)
    return source, tile


def plan_structured(
    model: keras.Model,
    sparsities: Sequence[float],
    explicit: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, list[int]]:
    """Chooses per-level unit widths for every structured layer and applies them.

    Args:
        model: a built functional model whose sub-network layers use
            ``mask_kind="structured"``.
        sparsities: model-wide per-level sparsity targets (fraction of kernel
            weights removed), sparsest first.
        explicit: per-layer widths given by the user; these layers are not
            scaled by the planner.

    Returns:
        The applied widths, ``{layer name: [width per level]}``.
    """
    explicit = dict(explicit or {})
    layers = [la for la in model._flatten_layers(include_self=False)
              if isinstance(la, SubnetLayerMixin) and la.mask_kind == "structured"]
    unknown = set(explicit) - {la.name for la in layers}
    if unknown:
        raise ValueError(f"widths given for unknown or non-structured layers: {sorted(unknown)}")
    for name, given in explicit.items():
        if len(given) != len(sparsities):
            raise ValueError(f"widths['{name}'] has {len(given)} entries for {len(sparsities)} levels")
    nodes = []
    for layer in layers:
        source, tile = _trace_source(layer)
        spec = registry.lookup(layer, exact=False)
        taps, in_channels = spec.taps(layer.kernel.shape), spec.in_channels(layer.kernel.shape)
        if source is not None and source not in layers:
            raise ValueError(
                f"structured levels: layer '{layer.name}' is fed by '{source.name}', "
                "which is not structured; nest the whole model with kind='structured'"
            )
        nodes.append(_Node(layer, source, tile, in_channels, taps))
    sources = {id(n.source) for n in nodes if n.source is not None}

    def widths_for(multiplier: float, level: int | None = None) -> dict[str, int]:
        widths: dict[str, int] = {}
        for n in nodes:
            name = n.layer.name
            if level is not None and name in explicit:
                widths[name] = int(explicit[name][level])
            elif registry.is_depthwise(n.layer):
                upstream = widths[n.source.name] if n.source is not None else n.in_channels
                widths[name] = upstream * n.layer.depth_multiplier
            elif id(n.layer) not in sources:
                widths[name] = n.layer._units  # a classifier keeps every class
            else:
                widths[name] = max(1, int(round(multiplier * n.layer._units)))
        return widths

    def kept_weights(widths: Mapping[str, int]) -> int:
        total = 0
        for n in nodes:
            if registry.is_depthwise(n.layer):
                total += widths[n.layer.name] * n.taps
                continue
            inputs = n.in_channels if n.source is None else widths[n.source.name] * n.tile
            total += widths[n.layer.name] * inputs * n.taps
        return total

    dense_total = kept_weights(widths_for(1.0))
    per_level = []
    for k, s in enumerate(sparsities):
        target = (1.0 - s) * dense_total
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if kept_weights(widths_for(mid, k)) < target:
                lo = mid
            else:
                hi = mid
        per_level.append(widths_for(hi, k))
    plan = {n.layer.name: [per_level[k][n.layer.name] for k in range(len(sparsities))]
            for n in nodes}
    for n in nodes:
        if registry.is_depthwise(n.layer) and n.layer.name in explicit:
            upstream = plan[n.source.name] if n.source is not None else None
            expected = [w * n.layer.depth_multiplier for w in upstream] if upstream else None
            if expected is not None and plan[n.layer.name] != expected:
                raise ValueError(
                    f"structured levels: depthwise layer '{n.layer.name}' must keep the "
                    f"width of its input layer '{n.source.name}' ({expected}), got "
                    f"{plan[n.layer.name]}"
                )
    unit_levels: dict[str, np.ndarray] = {}
    for n in nodes:
        name = n.layer.name
        input_levels = None if n.source is None else np.tile(unit_levels[n.source.name], n.tile)
        n.layer.set_structured_levels(plan[name], input_levels)
        unit_levels[name] = masks_lib.prefix_levels(n.layer._units, plan[name])
    return plan
