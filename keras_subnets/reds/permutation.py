# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Reordering units by importance without changing what the model computes."""

from __future__ import annotations

import keras
import numpy as np

from keras_subnets import graph


def _np(v) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(v))


def group_scores(channels: graph.ChannelGraph, importance: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A group's per-channel importance: its producers' plus the depthwise channels that follow it.

    Args:
        channels: the model's `graph.ChannelGraph`.
        importance: per-unit importance of every weight layer (`unit_importance`).

    Returns:
        ``{group name: importance of each of its channels}``.
    """
    out = {g.name: np.zeros(g.size, np.float64) for g in channels.groups}
    for g in channels.groups:
        for producer in g.producers:
            out[g.name] += np.asarray(importance[producer.name], np.float64)
    for layer in channels.layers:
        if not graph.is_depthwise(layer):
            continue
        scores, offset = np.asarray(importance[layer.name], np.float64), 0
        for s in channels.outputs[layer.name].segments:
            part = scores[offset:offset + s.size].reshape(s.group.size, s.repeat).sum(axis=1)
            out[s.group.name] += part
            offset += s.size
    return out


def permute_channels(model: keras.Model, importance: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sorts every reducible channel group by descending importance, in place.

    A group's channels move together in every member: the producers' units
    (all layers tied by residual adds and gates), the depthwise channels and
    BatchNorm entries that follow them, and the consumers' input rows (at
    the group's offset inside a concatenation), so the model's outputs do
    not change. Fixed groups (model input, classifier outputs) keep their order.

    Returns:
        ``{group name: the permutation applied}`` (new position → old index).

    Raises:
        ValueError: naming a layer (Reshape, attention, ...) whose channels cannot be followed.
    """
    channels = graph.trace_channels(model, what="REDS permutation")
    scores = group_scores(channels, importance)
    perms = {g.name: np.argsort(-scores[g.name], kind="stable") for g in channels.groups if not g.fixed}
    if not perms:
        return {}
    for g in channels.groups:
        if g.name not in perms:
            continue
        perm = perms[g.name]
        for producer in g.producers:
            _assign(producer, np.take(_np(producer.kernel), perm, axis=-1),
                    _np(producer.bias)[perm] if producer.use_bias else None)
    for layer in channels.layers:
        order = channels.inputs[layer.name].permutation(perms)
        if np.array_equal(order, np.arange(len(order))):
            continue
        kernel = np.take(_np(layer.kernel), order, axis=-2)
        bias = None
        if graph.is_depthwise(layer) and layer.use_bias:
            bias = _np(layer.bias)[channels.outputs[layer.name].permutation(perms)]
        _assign(layer, kernel, bias)
    for bn, channel_map in channels.batch_norms:
        order = channel_map.permutation(perms)
        for var in bn.weights:
            if var.dtype == "int32" or len(var.shape) == 0:
                continue
            var.assign(_np(var)[..., order])
    return perms


def _assign(layer, kernel, bias):
    layer.kernel.assign(kernel)
    if bias is not None:
        layer.bias.assign(bias)
