# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Channel bookkeeping over a functional Keras graph.

`trace_source`: which weight layer feeds a weight layer's input channels
through a chain of channel-wise layers and Flatten (structured LCS).
`trace_channels`: channel groups over any graph of residual adds, gates and
concatenations (structured levels, REDS's permutations and its knapsack).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from keras_subnets import registry
from keras_subnets.model_layers import model_layers

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


# ---------------------------------------------------------------------------------------------
# Channel groups over any functional graph: residual adds, gates and concatenations.

# Keras merge layers whose output channel c combines channel c of every input: the inputs' channels
# are tied (a unit is the same channel in every input).
ELEMENTWISE_MERGE = (
    keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply, keras.layers.Average,
    keras.layers.Maximum, keras.layers.Minimum,
)

# Keras operations applied to symbolic tensors (``x + 3.0``, ``keras.ops.relu6(x)``): element-wise,
# so channel c of the output depends on channel c of the inputs only.
_ELEMENTWISE_OPS = {
    "Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum", "Relu", "Relu6",
    "Sigmoid", "HardSigmoid", "HardSilu", "HardSwish", "Silu", "Swish", "Tanh", "LeakyRelu", "Elu",
    "Selu", "Gelu", "Softplus", "Softsign", "Abs", "Negative", "Square", "Sqrt", "Exp", "Clip",
}


class Tied:
    """Channels kept or dropped together: unit c is channel c of every member.

    Members are the weight layers producing the channels (``producers``) and
    everything tied to them by element-wise merges (residual adds, gates).
    Use ``ChannelGraph.groups``, whose entries are merged roots.
    """

    def __init__(self, name: str, size: int):
        self.name = name
        self.size = int(size)
        self.producers: list = []
        self.fixed_reasons: list[str] = []
        self._parent: Tied | None = None

    def root(self) -> Tied:
        node = self
        while node._parent is not None:
            node = node._parent
        return node

    @property
    def fixed(self) -> bool:
        return bool(self.fixed_reasons)

    def __repr__(self) -> str:
        return f"Tied({self.name!r}, size={self.size}, producers={[p.name for p in self.producers]})"


@dataclass
class Segment:
    """``repeat`` consecutive channels per channel of ``group`` (a depthwise multiplier)."""

    group: Tied
    repeat: int = 1

    @property
    def size(self) -> int:
        return self.group.root().size * self.repeat


@dataclass
class ChannelMap:
    """Where a tensor's channels come from: ``segments`` concatenated, the whole repeated ``tile``
    times (a Flatten of ``tile`` positions: flat index = position × channels + channel)."""

    segments: list[Segment]
    tile: int = 1

    @property
    def channels(self) -> int:
        return sum(s.size for s in self.segments)

    def resolved(self) -> ChannelMap:
        return ChannelMap([Segment(s.group.root(), s.repeat) for s in self.segments], self.tile)

    def levels(self, unit_levels: dict[str, np.ndarray]) -> np.ndarray:
        """First level of each channel, from ``{group name: first level of each unit}``."""
        parts = [np.repeat(unit_levels[s.group.root().name], s.repeat) for s in self.segments]
        return np.tile(np.concatenate(parts) if parts else np.zeros(0, np.int64), self.tile)

    def permutation(self, perms: dict[str, np.ndarray]) -> np.ndarray:
        """The tensor's channel permutation when each group is permuted by ``perms`` (new → old)."""
        parts, offset = [], 0
        for s in self.segments:
            g = s.group.root()
            perm = perms.get(g.name, np.arange(g.size))
            parts.append(offset + (perm[:, None] * s.repeat + np.arange(s.repeat)[None, :]).reshape(-1))
            offset += s.size
        one = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return (np.arange(self.tile)[:, None] * offset + one[None, :]).reshape(-1)


@dataclass
class ChannelGraph:
    """Channel groups of a model and how every weight layer and BatchNorm reads them.

    Attributes:
        groups: the groups (merged roots), in the order their first producer appears.
        inputs: ``{weight layer name: ChannelMap of its input}``.
        outputs: ``{weight layer name: ChannelMap of its output}`` (a depthwise
            layer's output follows its input).
        batch_norms: ``[(BatchNorm layer, ChannelMap of its input)]``.
        layers: the weight layers, in graph order.
    """

    groups: list[Tied]
    inputs: dict[str, ChannelMap]
    outputs: dict[str, ChannelMap]
    batch_norms: list
    layers: list

    def group(self, name: str) -> Tied:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def consumers(self, group: Tied) -> list:
        """Non-depthwise weight layers reading ``group``'s channels."""
        return [la for la in self.layers if not is_depthwise(la)
                and any(s.group.root() is group for s in self.inputs[la.name].segments)]

    def depthwise(self, group: Tied) -> list:
        return [la for la in self.layers if is_depthwise(la)
                and any(s.group.root() is group for s in self.inputs[la.name].segments)]


def _op_name(op) -> str:
    return f"'{op.name}' ({type(op).__name__})"


def trace_channels(model: keras.Model, what: str = "structured levels", reducible=None) -> ChannelGraph:
    """Follows every channel of a functional model through its graph.

    Supports chains of channel-wise layers, Flatten, depthwise layers (any
    multiplier), element-wise merges (``Add``, ``Multiply``, ... : residual
    connections, squeeze-and-excite gates, hard-swish; the inputs' channel
    groups are tied), element-wise Keras operations with scalar constants and
    ``Concatenate`` on the channel axis (a consumer's input channels are the
    members' ranges, in order).

    Args:
        model: a built functional or Sequential model.
        what: the feature asking, for error messages.
        reducible: ``layer -> bool``; groups produced, consumed or followed
            by a layer for which it is False keep every channel (default:
            every weight layer is reducible).

    Returns:
        The `ChannelGraph`. A group is fixed (never reduced) when it holds the
        model input, reaches a model output, feeds no weight layer, or
        touches a layer that is not reducible; ``Tied.fixed_reasons`` says why.

    Raises:
        ValueError: naming the layer whose channels cannot be followed.
    """
    weight_layers = model_layers(model, WEIGHT_LAYERS)
    tracer = _ChannelTracer(model, what, weight_layers)
    inputs, outputs = {}, {}
    for layer in weight_layers:
        if len(layer._inbound_nodes) != 1:
            tracer.fail(layer, f"is called {len(layer._inbound_nodes)} times (shared layers are not supported)")
        node = layer._inbound_nodes[0]
        if len(node.input_tensors) != 1:
            tracer.fail(layer, "has several inputs")
        inputs[layer.name] = tracer.map_of(node.input_tensors[0])
        outputs[layer.name] = tracer.map_of(node.output_tensors[0])
    for out in model.outputs:
        for s in tracer.map_of(out).segments:
            s.group.root().fixed_reasons.append("reaches the model output")
    roots = []
    for g in tracer.created + [s.group for m in inputs.values() for s in m.segments]:
        r = g.root()
        if r not in roots:
            roots.append(r)
    graph = ChannelGraph(roots, {k: v.resolved() for k, v in inputs.items()},
                         {k: v.resolved() for k, v in outputs.items()},
                         [(bn, m.resolved()) for bn, m in tracer.batch_norms], weight_layers)
    _fix_unconsumed_and_blocked(graph, reducible)
    return graph


def _fix_unconsumed_and_blocked(graph: ChannelGraph, reducible):
    """Fixes the groups no weight layer reads, and those touching a layer ``reducible`` refuses."""
    for g in graph.groups:
        if not graph.consumers(g):
            g.fixed_reasons.append("feeds no weight layer")
        if reducible is not None:
            touching = g.producers + graph.consumers(g) + graph.depthwise(g)
            blocked = [la.name for la in touching if not reducible(la)]
            if blocked:
                g.fixed_reasons.append(f"shared with layers kept whole: {blocked}")


class _ChannelTracer:
    """`trace_channels`' walk: the channel map of each tensor, from its producing operation back to the groups.

    Every non-depthwise weight layer owns a new group; other operations pass,
    repeat, tile, tie or concatenate their inputs' maps, or are refused by name.
    Maps are memoised per tensor.
    """

    def __init__(self, model: keras.Model, what: str, weight_layers: list):
        self.model = model
        self.what = what
        self.memo: dict[int, ChannelMap] = {}
        self.own: dict[int, Tied] = {}
        self.created: list[Tied] = []
        self.batch_norms: list = []
        for layer in weight_layers:
            if not is_depthwise(layer):
                g = Tied(layer.name, int(layer.kernel.shape[-1]))
                g.producers.append(layer)
                self.own[id(layer)] = g
                self.created.append(g)

    def fail(self, op, why: str):
        raise ValueError(
            f"{self.what}: layer {_op_name(op)} {why}; supported between weight layers: channel-wise layers, "
            "pooling, Flatten, depthwise layers, element-wise merges (Add, Multiply, ...), Concatenate on "
            "the channel axis (use mask kind 'unstructured', 'row' or 'block' for this model)")

    def map_of(self, tensor) -> ChannelMap:
        key = id(tensor)
        if key not in self.memo:
            self.memo[key] = self._trace(tensor)
        return self.memo[key]

    def _trace(self, tensor) -> ChannelMap:
        op, node_index, _ = tensor._keras_history
        if isinstance(op, keras.layers.InputLayer):
            channels = int(tensor.shape[-1]) if len(tensor.shape) else 1
            g = Tied(op.name if len(self.model.inputs) > 1 else "input", channels)
            g.fixed_reasons.append("model input")
            return ChannelMap([Segment(g)])
        if isinstance(op, keras.Model):
            self.fail(op, "is a nested model (build the model flat)")
        if isinstance(op, keras.layers.Layer) and op.weights and len(op._inbound_nodes) > 1:
            self.fail(op, f"is called {len(op._inbound_nodes)} times (shared layers are not supported)")
        node = op._inbound_nodes[node_index]
        inputs = list(node.input_tensors)
        if isinstance(op, WEIGHT_LAYERS) and not is_depthwise(op):
            return ChannelMap([Segment(self.own[id(op)])])
        if isinstance(op, WEIGHT_LAYERS):
            return self._depthwise(op, inputs)
        if isinstance(op, keras.layers.Flatten):
            source = self.map_of(inputs[0])
            return ChannelMap(source.segments, source.tile * int(np.prod(inputs[0].shape[1:-1])))
        if isinstance(op, CHANNELWISE):
            return self._channelwise(op, inputs)
        if isinstance(op, ELEMENTWISE_MERGE) or (
                not isinstance(op, keras.layers.Layer) and type(op).__name__ in _ELEMENTWISE_OPS):
            return self._elementwise(op, node, inputs)
        if isinstance(op, keras.layers.Concatenate):
            return self._concatenate(op, inputs)
        self._refuse(op)

    def _depthwise(self, op, inputs: list) -> ChannelMap:
        """Each input channel repeated ``depth_multiplier`` times."""
        source = self.map_of(inputs[0])
        if source.tile != 1:
            self.fail(op, "reads a flattened tensor")
        mult = int(getattr(op, "depth_multiplier", 1))
        return ChannelMap([Segment(s.group, s.repeat * mult) for s in source.segments])

    def _channelwise(self, op, inputs: list) -> ChannelMap:
        """The input's map; a BatchNorm is recorded with it."""
        if len(inputs) != 1:
            self.fail(op, "has several inputs")
        result = self.map_of(inputs[0])
        if isinstance(op, keras.layers.BatchNormalization):
            if op.axis not in (-1, len(inputs[0].shape) - 1):
                self.fail(op, f"normalises axis {op.axis}, not the channels")
            self.batch_norms.append((op, result))
        return result

    def _elementwise(self, op, node, inputs: list) -> ChannelMap:
        """The inputs' maps tied together (scalar constants and broadcast gates allowed)."""
        for arg in list(node.arguments.args) + list(node.arguments.kwargs.values()):
            if not isinstance(arg, keras.KerasTensor) and not isinstance(arg, (list, tuple)) \
                    and np.size(arg) > 1:
                self.fail(op, "combines channels with a constant array (its entries would not follow a "
                          "permutation)")
        maps = [self.map_of(t) for t in inputs]
        if any(len(t.shape) != len(inputs[0].shape) for t in inputs):
            self.fail(op, "combines tensors of different ranks")
        return self._tie(op, maps) if len(maps) > 1 else maps[0]

    def _tie(self, op, maps: list[ChannelMap]) -> ChannelMap:
        """Merges the groups at the same positions of ``maps``; a 1-channel map (a broadcast gate) fixes its group."""
        sizes = [m.channels for m in maps]
        full = [m for m in maps if m.channels == max(sizes)]
        for m in maps:
            if m.channels not in (1, max(sizes)):
                self.fail(op, f"combines inputs of {sizes} channels")
            if m.channels == 1 and max(sizes) > 1:  # a broadcast scalar gate: not tied, kept whole
                for s in m.segments:
                    s.group.root().fixed_reasons.append(f"broadcast by {op.name}")
        first = full[0]
        for other in full[1:]:
            shape_a = [(s.group.root().size, s.repeat) for s in first.segments]
            shape_b = [(s.group.root().size, s.repeat) for s in other.segments]
            if shape_a != shape_b or first.tile != other.tile:
                self.fail(op, f"combines channel ranges that do not line up ({shape_a} and {shape_b})")
            for a, b in zip(first.segments, other.segments, strict=True):
                ra, rb = a.group.root(), b.group.root()
                if ra is not rb:
                    rb._parent = ra
                    ra.producers += rb.producers
                    ra.fixed_reasons += rb.fixed_reasons
        return first

    def _concatenate(self, op, inputs: list) -> ChannelMap:
        """The members' segments in order."""
        rank = len(inputs[0].shape)
        if op.axis not in (-1, rank - 1):
            self.fail(op, f"concatenates along axis {op.axis}, not the channels")
        maps = [self.map_of(t) for t in inputs]
        if any(m.tile != 1 for m in maps):
            self.fail(op, "concatenates flattened tensors")
        return ChannelMap([s for m in maps for s in m.segments])

    def _refuse(self, op):
        """Names why ``op``'s channels cannot be followed."""
        if registry.split_lookup(op) is not None:
            self.fail(op, f"is {registry.split_lookup(op).reason}; replace it by its two parts first with "
                      "keras_subnets.registry.expand_split_layers(model) (nest() and reds.fit_subnets() do)")
        if isinstance(op, keras.layers.Layer) and op.weights:
            self.fail(op, "has weights but no sub-network version, so its channels cannot be followed (keep it "
                      "dense with nest(..., keep_dense=[...]))")
        self.fail(op, "mixes or reorders channels")
