"""Channel bookkeeping over a functional Keras graph.

Which weight layer feeds each weight layer's input channels, through
channel-wise layers (activations, BatchNorm, pooling, dropout) and Flatten.
Structured levels, REDS's permutations and its knapsack all need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from keras_subnets import registry

# Both read from the registry (the one list of supported layers).
WEIGHT_LAYERS = registry.WEIGHT_CLASSES

# Layers whose output channel c depends only on input channel c.
CHANNELWISE = registry.CHANNELWISE


def is_depthwise(layer) -> bool:
    return registry.is_depthwise(layer)


def _producer(tensor):
    return tensor._keras_history.operation


def trace_source(layer, what: str = "structured levels") -> tuple[object | None, int, list]:
    """The weight layer feeding ``layer``'s input channels.

    Returns:
        ``(source, tile, passed)``: the upstream weight layer (None = the
        model input), how many positions a Flatten spread each channel over,
        and the channel-wise layers in between (nearest first).

    Raises:
        ValueError: naming a layer that mixes or reorders channels.
    """
    tile, passed = 1, []
    tensor = layer.input
    while True:
        op = _producer(tensor)
        if isinstance(op, keras.layers.InputLayer):
            return None, tile, passed
        if isinstance(op, WEIGHT_LAYERS):
            return op, tile, passed
        if isinstance(op, keras.layers.Flatten):
            tile *= int(np.prod(op.input.shape[1:-1]))
        elif registry.split_lookup(op) is not None:
            raise ValueError(
                f"{what}: layer '{op.name}' ({type(op).__name__}) is {registry.split_lookup(op).reason}; "
                "replace it by its two parts first with keras_subnets.registry.expand_split_layers(model) "
                "(nest() and reds.fit_subnets() do)"
            )
        elif not isinstance(op, CHANNELWISE) and op.weights and not isinstance(op, keras.Model):
            raise ValueError(
                f"{what}: layer '{op.name}' ({type(op).__name__}) between '{layer.name}' and the layer "
                "feeding it has weights but no sub-network version, so its channels cannot be followed; "
                "keep it dense with nest(..., keep_dense=[...]) and use mask kind 'unstructured', 'row' "
                "or 'block' for this model"
            )
        elif not isinstance(op, CHANNELWISE):
            raise ValueError(
                f"{what}: layer '{op.name}' ({type(op).__name__}) between '{layer.name}' and the layer "
                "feeding it mixes or reorders channels; chains of channel-wise layers, pooling and "
                "Flatten are supported (use mask kind 'unstructured', 'row' or 'block' for this model)"
            )
        if isinstance(op.input, (list, tuple)):
            raise ValueError(f"{what}: layer '{op.name}' has several inputs")
        passed.append(op)
        tensor = op.input


@dataclass
class ChannelGroup:
    """Channels that must be kept or dropped together.

    ``producer`` creates the channels (a Dense/Conv2D, or None for the model
    input); ``depthwise`` are the depthwise layers that follow them one to one;
    ``batch_norms`` normalise them; ``consumers`` read them as input channels.
    """

    producer: object | None
    depthwise: list = field(default_factory=list)
    batch_norms: list = field(default_factory=list)
    consumers: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return "input" if self.producer is None else self.producer.name

    @property
    def size(self) -> int:
        if self.producer is None:
            return 0
        return int(self.producer.kernel.shape[-1]) if not is_depthwise(self.producer) else 0


def channel_groups(model: keras.Model, what: str = "structured levels") -> tuple[list[ChannelGroup], dict]:
    """Groups the model's channels; returns the groups and ``{layer name: (group, tile)}`` for inputs."""
    layers = [la for la in model._flatten_layers(include_self=False) if isinstance(la, WEIGHT_LAYERS)]
    group_of: dict[int, ChannelGroup] = {}
    groups: list[ChannelGroup] = []
    input_group = ChannelGroup(None)
    inputs_of = {}
    for layer in layers:
        source, tile, passed = trace_source(layer, what)
        upstream = input_group if source is None else group_of[id(source)]
        bns = [p for p in passed if isinstance(p, keras.layers.BatchNormalization)]
        if is_depthwise(layer):
            if int(layer.depth_multiplier) != 1:
                raise ValueError(f"{what}: depthwise layer '{layer.name}' has depth_multiplier "
                                 f"{layer.depth_multiplier}; only 1 is supported")
            upstream.depthwise.append(layer)
            upstream.batch_norms.extend(bns)
            group_of[id(layer)] = upstream
            continue
        upstream.batch_norms.extend(bns)
        upstream.consumers.append(layer)
        inputs_of[layer.name] = (upstream, tile)
        group = ChannelGroup(layer)
        groups.append(group)
        group_of[id(layer)] = group
    return groups, inputs_of
