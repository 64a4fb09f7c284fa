"""Reordering units by importance without changing what the model computes."""

from __future__ import annotations

import keras
import numpy as np

from keras_subnets import graph, registry


def _np(v) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(v))


def group_scores(groups: list[graph.ChannelGroup], importance: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A group's per-channel importance: its producer's plus its tied depthwise channels'."""
    out = {}
    for g in groups:
        total = np.array(importance[g.producer.name], np.float64)
        for dw in g.depthwise:
            total = total + importance[dw.name]
        out[g.name] = total
    return out


def permute_channels(model: keras.Model, importance: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sorts every channel group by descending importance, in place.

    Producer units, tied depthwise channels, BatchNorm entries and the
    consumers' input rows move together, so the model's outputs do not
    change. Groups with no consumer (classifiers) keep their order.

    Returns:
        ``{group name: the permutation applied}`` (new position → old index).

    Raises:
        ValueError: naming a layer (Add, Concatenate, Reshape, ...) the
            permutation cannot follow.
    """
    groups, inputs_of = graph.channel_groups(model, what="REDS permutation")
    scores = group_scores(groups, importance)
    applied = {}
    for g in groups:
        if not g.consumers:
            continue
        perm = np.argsort(-scores[g.name], kind="stable")
        applied[g.name] = perm
        producer = g.producer
        weights = [_np(producer.kernel)[..., perm]]
        if producer.use_bias:
            weights.append(_np(producer.bias)[perm])
        _assign(producer, weights)
        for dw in g.depthwise:
            weights = [np.take(_np(dw.kernel), perm, axis=registry.lookup(dw, exact=False).input_axis)]
            if dw.use_bias:
                weights.append(_np(dw.bias)[perm])
            _assign(dw, weights)
        for bn in g.batch_norms:
            for var in bn.weights:
                if var.dtype == "int32" or len(var.shape) == 0:
                    continue
                value = _np(var)
                var.assign(value[..., perm])
        for consumer in g.consumers:
            _, tile = inputs_of[consumer.name]
            kernel = _np(consumer.kernel)
            spec = registry.lookup(consumer, exact=False)
            if spec.operator != "fully_connected":
                consumer.kernel.assign(np.take(kernel, perm, axis=spec.input_axis))
            else:
                channels = len(perm)
                rows = (np.arange(tile)[:, None] * channels + perm[None, :]).reshape(-1)
                consumer.kernel.assign(kernel[rows])
    return applied


def _assign(layer, weights):
    layer.kernel.assign(weights[0])
    if len(weights) > 1:
        layer.bias.assign(weights[1])
