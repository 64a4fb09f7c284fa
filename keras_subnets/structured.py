# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Unit-prefix planning for ``structured`` levels over a functional graph.

A structured level keeps the leading units of every channel group
(`graph.trace_channels`: a layer's units, and every layer tied to them by
residual adds or gates). Depthwise layers follow their input's channels,
groups that reach the model output (classifiers) keep every unit, and the
remaining groups share one width multiplier per level, chosen so that the
level removes the requested fraction of kernel weights. A consumer of a
concatenation reads each member's prefix at the member's offset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np

from keras_subnets import graph
from keras_subnets import masks as masks_lib
from keras_subnets.layers import SubnetLayerMixin
from keras_subnets.model_layers import model_layers


def _is_structured(layer) -> bool:
    return isinstance(layer, SubnetLayerMixin) and layer.mask_kind == "structured"


def _taps(layer) -> int:
    return int(np.prod([int(d) for d in layer.kernel.shape[:-2]]))


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
        explicit: per-layer widths given by the user (a layer's width is its
            whole channel group's: layers tied by a residual add share it);
            these groups are not scaled by the planner.

    Returns:
        The applied widths, ``{layer name: [width per level]}`` (a depthwise
        layer's: its active channels).
    """
    explicit = dict(explicit or {})
    layers = [la for la in model_layers(model) if _is_structured(la)]
    _check_explicit(explicit, layers, len(sparsities))
    channels = graph.trace_channels(model, what="structured levels", reducible=_is_structured)
    _check_producers(channels, layers)
    given = _given_group_widths(model, channels, explicit, len(sparsities))
    per_level = _level_widths(channels, given, sparsities)
    unit_levels = {}
    for g in channels.groups:
        try:
            unit_levels[g.name] = masks_lib.prefix_levels(g.size, [w[g.name] for w in per_level])
        except ValueError as err:
            raise ValueError(f"structured levels: channel group '{g.name}': {err}") from None
    plan = {}
    for layer in layers:
        inputs = channels.inputs[layer.name].levels(unit_levels)
        outputs = channels.outputs[layer.name].levels(unit_levels)
        widths = [int(np.sum(outputs <= k)) for k in range(len(sparsities))]
        layer.set_structured_levels(widths, inputs, unit_levels=outputs)
        plan[layer.name] = widths
    return plan


def _check_explicit(explicit: Mapping[str, Sequence[int]], layers: list, levels: int):
    unknown = set(explicit) - {la.name for la in layers}
    if unknown:
        raise ValueError(f"widths given for unknown or non-structured layers: {sorted(unknown)}")
    for name, given in explicit.items():
        if len(given) != levels:
            raise ValueError(f"widths['{name}'] has {len(given)} entries for {levels} levels")


def _check_producers(channels: graph.ChannelGraph, layers: list):
    """Every channel a structured layer reads comes from structured layers (else its prefix is not a level)."""
    for layer in layers:
        for s in channels.inputs[layer.name].segments:
            producers = s.group.producers
            if producers and not all(_is_structured(p) for p in producers):
                other = next(p for p in producers if not _is_structured(p))
                raise ValueError(
                    f"structured levels: layer '{layer.name}' is fed by '{other.name}', "
                    "which is not structured; nest the whole model with kind='structured'"
                )


def _given_group_widths(model: keras.Model, channels: graph.ChannelGraph, explicit: Mapping[str, Sequence[int]],
                        levels: int) -> dict[str, list[int]]:
    """The user's per-layer widths as ``{channel group: units per level}`` (a depthwise layer's over its multiplier)."""
    given: dict[str, list[int]] = {}
    for name, widths in explicit.items():
        layer = model.get_layer(name)
        segments = (channels.inputs[name] if graph.is_depthwise(layer) else channels.outputs[name]).segments
        if len(segments) != 1:
            raise ValueError(f"structured levels: widths['{name}']: depthwise layer '{name}' reads "
                             f"{len(segments)} concatenated groups; give the widths of their producers")
        s = segments[0]
        per_group = [int(w) // s.repeat for w in widths]
        if [w * s.repeat for w in per_group] != [int(w) for w in widths]:
            raise ValueError(f"structured levels: depthwise layer '{name}' must keep a multiple of its "
                             f"depth multiplier {s.repeat}, got {list(widths)}")
        g = s.group
        if g.name in given and given[g.name] != per_group:
            raise ValueError(
                f"structured levels: widths['{name}'] = {list(widths)} disagrees with {given[g.name]} given "
                f"for the same channel group '{g.name}' (channels tied by {_tie_note(g)})")
        if g.fixed and per_group != [g.size] * levels:
            if graph.is_depthwise(layer) and g.producers:
                raise ValueError(
                    f"structured levels: depthwise layer '{name}' must keep the width of its input layer "
                    f"'{g.producers[0].name}' ({[g.size * s.repeat] * levels}), got {list(widths)}")
            raise ValueError(f"structured levels: widths['{name}']: channel group '{g.name}' keeps every "
                             f"channel ({'; '.join(g.fixed_reasons)})")
        given[g.name] = per_group
    return given


def _group_widths(channels: graph.ChannelGraph, given: Mapping[str, list[int]], multiplier: float,
                  level: int | None) -> dict[str, int]:
    """Every group's width at ``level``: the user's, the whole group when fixed, else ``multiplier`` of it."""
    out = {}
    for g in channels.groups:
        if level is not None and g.name in given:
            out[g.name] = given[g.name][level]
        elif g.fixed:
            out[g.name] = g.size
        else:
            out[g.name] = max(1, int(round(multiplier * g.size)))
    return out


def _kept_weights(channels: graph.ChannelGraph, widths: Mapping[str, int]) -> int:
    """Kernel weights of every weight layer when each group keeps ``widths`` units."""
    total = 0
    for layer in channels.layers:
        source = channels.inputs[layer.name]
        reads = sum(widths[s.group.name] * s.repeat for s in source.segments) * source.tile
        if graph.is_depthwise(layer):
            total += reads * _taps(layer)
        else:
            total += reads * widths[channels.outputs[layer.name].segments[0].group.name] * _taps(layer)
    return total


def _level_widths(channels: graph.ChannelGraph, given: Mapping[str, list[int]],
                  sparsities: Sequence[float]) -> list[dict[str, int]]:
    """Per level, the group widths whose shared multiplier (bisected) keeps ``1 - sparsity`` of the weights."""
    dense_total = _kept_weights(channels, _group_widths(channels, given, 1.0, None))
    per_level = []
    for k, s in enumerate(sparsities):
        target = (1.0 - s) * dense_total
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if _kept_weights(channels, _group_widths(channels, given, mid, k)) < target:
                lo = mid
            else:
                hi = mid
        per_level.append(_group_widths(channels, given, hi, k))
    return per_level


def _tie_note(group: graph.Tied) -> str:
    return "residual adds or gates: " + ", ".join(p.name for p in group.producers)
