# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The one table of Keras layers keras-subnets supports, and what each one is.

Like tfmot's prune registry, every other part of the package asks this module
instead of keeping its own list: `nest` (which sub-network class replaces a
layer), `lcs.subspace` (which LCS class), `graph` (which layers produce,
follow or pass channels), the structured planner and REDS (kernel axes and
taps), and the converter (TFLite operator and weight layout).

A *weight layer* is a layer whose kernel holds nested levels. Its kernel
layout names every axis: ``H``/``W`` window rows and columns, ``I`` input
channels, ``O`` output units, ``M`` depthwise channel multiplier (output unit
``i * M + m``). 1-D layers have no ``H`` axis and run in TFLite as a 2-D
operator of height 1 (TensorFlow's converter wraps them in ``EXPAND_DIMS`` /
``RESHAPE``).

A *channel-wise* layer's output channel ``c`` depends on its input channel
``c`` only (activations, pooling, dropout, padding, BatchNorm): channels pass
through it unchanged in number and order.

A *split* layer is computed by two weight layers in sequence and is replaced
by both at nest time (``SeparableConv2D`` = depthwise + 1x1 conv, exactly how
TensorFlow's converter lowers it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from keras_subnets.layers import (
    SubnetBatchNormalization,
    SubnetConv1D,
    SubnetConv2D,
    SubnetDense,
    SubnetDepthwiseConv1D,
    SubnetDepthwiseConv2D,
)
from keras_subnets.model_layers import model_layers

OPERATORS = ("fully_connected", "conv_2d", "depthwise_conv_2d")


@dataclass(frozen=True)
class WeightLayer:
    """One supported weight layer.

    Attributes:
        keras_class: the plain Keras layer.
        subnet_class: its sub-network version (`nest`).
        lcs_class: dotted path of its LCS version (`lcs.subspace`), or None.
            A path, not the class: the LCS package imports this module.
        operator: the TFLite operator computing it (``fully_connected``,
            ``conv_2d`` or ``depthwise_conv_2d``); its ``KS_*`` custom
            operator is the same name in capitals with the ``KS_`` prefix.
        layout: the Keras kernel's axes, e.g. ``"HWIO"``.
    """

    keras_class: type
    subnet_class: type
    lcs_class: str | None
    operator: str
    layout: str

    @property
    def name(self) -> str:
        return self.keras_class.__name__

    @property
    def depthwise(self) -> bool:
        """Output units follow input channels one to one (times ``M``)."""
        return "M" in self.layout

    @property
    def input_axis(self) -> int:
        """Kernel axis of the input channels."""
        return self.layout.index("I")

    @property
    def output_axis(self) -> int | None:
        """Kernel axis of the output units; None for depthwise (units are ``I x M``)."""
        return self.layout.index("O") if "O" in self.layout else None

    @property
    def window_axes(self) -> tuple[int, ...]:
        """Kernel axes of the window (none for Dense)."""
        return tuple(i for i, a in enumerate(self.layout) if a in "HW")

    def lcs(self) -> type | None:
        """The LCS class, imported on first use."""
        if self.lcs_class is None:
            return None
        module, _, name = self.lcs_class.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def window(self, kernel_shape) -> tuple[int, int]:
        """``(kernel_h, kernel_w)`` of the TFLite operator (1-D: height 1)."""
        shape = dict(zip(self.layout, (int(d) for d in kernel_shape), strict=True))
        return shape.get("H", 1), shape.get("W", 1)

    def taps(self, kernel_shape) -> int:
        """Weights per (output unit, input channel) pair."""
        kh, kw = self.window(kernel_shape)
        return kh * kw

    def in_channels(self, kernel_shape) -> int:
        return int(kernel_shape[self.input_axis])

    def units(self, kernel_shape) -> int:
        """Output units (channels) of a kernel of this shape."""
        if self.depthwise:
            return int(kernel_shape[self.input_axis]) * int(kernel_shape[self.layout.index("M")])
        return int(kernel_shape[self.output_axis])

    def tflite_weight_shape(self, kernel_shape) -> tuple[int, ...]:
        """Shape of the weight tensor TensorFlow's converter writes for this layer."""
        kh, kw = self.window(kernel_shape)
        if self.operator == "fully_connected":
            return (self.units(kernel_shape), self.in_channels(kernel_shape))
        if self.operator == "conv_2d":
            return (self.units(kernel_shape), kh, kw, self.in_channels(kernel_shape))
        return (1, kh, kw, self.units(kernel_shape))

    def unit_axis_view(self, kernel: np.ndarray) -> np.ndarray:
        """The kernel with output units on the last axis (depthwise: ``I x M`` merged)."""
        kernel = np.asarray(kernel)
        if self.depthwise:
            return kernel.reshape(kernel.shape[:-2] + (-1,))
        return kernel


@dataclass(frozen=True)
class SplitLayer:
    """A layer replaced at nest time by two weight layers in sequence.

    Attributes:
        keras_class: the plain Keras layer.
        split: ``layer -> [(keras class, config, weights)]`` in call order,
            the plain layers computing exactly ``layer``.
        reason: why it is split (for messages and docs).
    """

    keras_class: type
    split: Callable
    reason: str

    @property
    def name(self) -> str:
        return self.keras_class.__name__


def _split_separable(layer) -> list[tuple[type, dict, list]]:
    """Depthwise (no bias, no activation) then pointwise (the bias and activation)."""
    config = layer.get_config()
    rank = 2 if isinstance(layer, keras.layers.SeparableConv2D) else 1
    depthwise_cls = keras.layers.DepthwiseConv2D if rank == 2 else keras.layers.DepthwiseConv1D
    pointwise_cls = keras.layers.Conv2D if rank == 2 else keras.layers.Conv1D
    common = {"dtype": config.get("dtype"), "trainable": config.get("trainable", True),
              "data_format": config.get("data_format")}
    depthwise = {
        **common, "name": f"{layer.name}_depthwise", "kernel_size": config["kernel_size"],
        "strides": config["strides"], "padding": config["padding"], "dilation_rate": config["dilation_rate"],
        "depth_multiplier": config["depth_multiplier"], "use_bias": False, "activation": None,
        "depthwise_initializer": config.get("depthwise_initializer"),
        "depthwise_regularizer": config.get("depthwise_regularizer"),
        "depthwise_constraint": config.get("depthwise_constraint"),
    }
    pointwise = {
        **common, "name": f"{layer.name}_pointwise", "filters": config["filters"], "kernel_size": 1,
        "use_bias": config["use_bias"], "activation": config["activation"],
        "kernel_initializer": config.get("pointwise_initializer"),
        "kernel_regularizer": config.get("pointwise_regularizer"),
        "kernel_constraint": config.get("pointwise_constraint"),
        "bias_initializer": config.get("bias_initializer"), "bias_regularizer": config.get("bias_regularizer"),
        "bias_constraint": config.get("bias_constraint"), "activity_regularizer": config.get("activity_regularizer"),
    }
    depthwise = {k: v for k, v in depthwise.items() if v is not None}
    pointwise = {k: v for k, v in pointwise.items() if v is not None}
    dw_weights = [np.asarray(keras.ops.convert_to_numpy(layer.depthwise_kernel))] if layer.built else []
    pw_weights = []
    if layer.built:
        pw_weights = [np.asarray(keras.ops.convert_to_numpy(layer.pointwise_kernel))]
        if layer.use_bias:
            pw_weights.append(np.asarray(keras.ops.convert_to_numpy(layer.bias)))
    return [(depthwise_cls, depthwise, dw_weights), (pointwise_cls, pointwise, pw_weights)]


WEIGHT_LAYERS: tuple[WeightLayer, ...] = (
    WeightLayer(keras.layers.Dense, SubnetDense, "keras_subnets.lcs.lcs_dense.LcsDense",
                "fully_connected", "IO"),
    WeightLayer(keras.layers.Conv2D, SubnetConv2D, "keras_subnets.lcs.lcs_conv2d.LcsConv2D", "conv_2d", "HWIO"),
    WeightLayer(keras.layers.DepthwiseConv2D, SubnetDepthwiseConv2D,
                "keras_subnets.lcs.lcs_depthwise_conv2d.LcsDepthwiseConv2D", "depthwise_conv_2d", "HWIM"),
    WeightLayer(keras.layers.Conv1D, SubnetConv1D, "keras_subnets.lcs.lcs_conv1d.LcsConv1D", "conv_2d", "WIO"),
    WeightLayer(keras.layers.DepthwiseConv1D, SubnetDepthwiseConv1D,
                "keras_subnets.lcs.lcs_depthwise_conv1d.LcsDepthwiseConv1D", "depthwise_conv_2d", "WIM"),
)

SPLIT_LAYERS: tuple[SplitLayer, ...] = (
    SplitLayer(keras.layers.SeparableConv2D, _split_separable,
               "a depthwise convolution followed by a 1x1 convolution (as TFLite runs it)"),
    SplitLayer(keras.layers.SeparableConv1D, _split_separable,
               "a 1-D depthwise convolution followed by a width-1 convolution (as TFLite runs it)"),
)

# Per-channel normalisation: a sub-network version with per-level statistics.
BATCH_NORM = (keras.layers.BatchNormalization, SubnetBatchNormalization)


def _existing(*names: str) -> tuple[type, ...]:
    return tuple(getattr(keras.layers, n) for n in names if hasattr(keras.layers, n))


# Layers whose output channel c depends only on input channel c (no weights, or BatchNorm's).
CHANNELWISE: tuple[type, ...] = _existing(
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Identity",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
    "BatchNormalization",
)

# Layers that reshape the spatial positions of every channel alike: channel c of the input becomes
# the positions c, c + C, c + 2C, ... of the output (channels last).
FLATTEN: tuple[type, ...] = (keras.layers.Flatten,)

_BY_KERAS = {spec.keras_class: spec for spec in WEIGHT_LAYERS}
_BY_SUBNET = {spec.subnet_class: spec for spec in WEIGHT_LAYERS}
_SPLIT_BY_KERAS = {spec.keras_class: spec for spec in SPLIT_LAYERS}
WEIGHT_CLASSES: tuple[type, ...] = tuple(spec.keras_class for spec in WEIGHT_LAYERS)
SUBNET_CLASSES: tuple[type, ...] = tuple(spec.subnet_class for spec in WEIGHT_LAYERS)


def _layer_type(layer_or_class) -> type:
    return layer_or_class if isinstance(layer_or_class, type) else type(layer_or_class)


def lookup(layer_or_class, exact: bool = True) -> WeightLayer | None:
    """The registry entry of a weight layer, or None.

    Args:
        layer_or_class: a layer or a layer class.
        exact: only the plain Keras class itself (what `nest` replaces: a
            user subclass may compute something else); otherwise also the
            sub-network and LCS versions and any subclass (what the graph
            and the converter read).
    """
    cls = _layer_type(layer_or_class)
    if exact:
        return _BY_KERAS.get(cls)
    for base in cls.__mro__:
        if base in _BY_KERAS:
            return _BY_KERAS[base]
    return None


def split_lookup(layer_or_class) -> SplitLayer | None:
    """The split entry of a layer replaced by two weight layers, or None."""
    return _SPLIT_BY_KERAS.get(_layer_type(layer_or_class))


def subnet_class(layer_or_class) -> type | None:
    """The sub-network class replacing a plain Keras layer (exact class), or None."""
    spec = lookup(layer_or_class)
    return None if spec is None else spec.subnet_class


def lcs_class(layer_or_class) -> type | None:
    """The LCS class replacing a plain Keras layer (exact class), or None."""
    spec = lookup(layer_or_class)
    return None if spec is None else spec.lcs()


def is_weight_layer(layer) -> bool:
    """A supported weight layer, plain, sub-network or LCS."""
    return lookup(layer, exact=False) is not None


def is_depthwise(layer) -> bool:
    spec = lookup(layer, exact=False)
    return spec is not None and spec.depthwise


def is_channelwise(layer) -> bool:
    return isinstance(layer, CHANNELWISE)


def operator(layer) -> str | None:
    """The TFLite operator of a weight layer (plain, sub-network or LCS), or None."""
    spec = lookup(layer, exact=False)
    return None if spec is None else spec.operator


def supported_names() -> str:
    """Human-readable list of the supported weight layers, for messages."""
    names = [spec.name for spec in WEIGHT_LAYERS] + [spec.name for spec in SPLIT_LAYERS]
    return ", ".join(names) + " and BatchNormalization"


def unsupported_reason(layer) -> str:
    """Why ``layer`` has no sub-network version, and what to do instead."""
    name = type(layer).__name__
    if isinstance(layer, _existing("LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D",
                                   "ConvLSTM2D")):
        why = "a recurrent layer: its gates share one kernel across time steps and have no nested format"
    elif isinstance(layer, _existing("MultiHeadAttention", "Attention", "AdditiveAttention",
                                     "GroupQueryAttention")):
        why = "an attention layer: its projections have no nested format yet"
    elif isinstance(layer, _existing("Conv2DTranspose", "Conv1DTranspose", "Conv3D", "Conv3DTranspose",
                                     "DepthwiseConv3D")):
        why = "no KS_* operator computes it"
    elif isinstance(layer, _existing("Embedding")):
        why = "an embedding table is a lookup, not multiply-accumulates"
    elif lookup(layer, exact=False) is not None:
        why = f"a subclass of {lookup(layer, exact=False).name} whose call may differ from it"
    else:
        why = "no sub-network version"
    return (f"layer '{layer.name}' ({name}) has weights but {why}; supported: {supported_names()}. "
            f"Pass keep_dense=['{layer.name}'] to keep it dense in every level (a builtin TFLite "
            "operator costing the same at every level)")


def has_split_layers(model: keras.Model) -> bool:
    return any(split_lookup(la) is not None for la in model_layers(model))


def split_names(model: keras.Model) -> dict[str, list[str]]:
    """``{split layer name: [names of the layers replacing it]}``."""
    out = {}
    for layer in model_layers(model):
        spec = split_lookup(layer)
        if spec is not None:
            out[layer.name] = [config["name"] for _, config, _ in spec.split(layer)]
    return out


def expand_split_layers(model: keras.Model) -> keras.Model:
    """``model`` with every split layer (``SeparableConv2D``, ...) replaced by its parts.

    The parts carry the layer's weights, so the result computes the same
    function (up to float rounding: two convolutions instead of one fused
    call). A model without split layers is returned as it is.

    Args:
        model: a built Sequential or Functional model.

    Returns:
        A functional model (new layers only where split; the other layers
        are fresh clones with the same weights).
    """
    if not has_split_layers(model):
        return model
    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs, model.outputs, name=model.name)
    pairs = []

    def clone(layer):
        new = layer.__class__.from_config(layer.get_config())
        pairs.append((layer, new))
        return new

    originals = {}

    def call(layer, *args, **kwargs):
        spec = split_lookup(layer)
        if spec is None:
            return layer(*args, **kwargs)
        old = originals[id(layer)]
        x = args[0] if args else kwargs.pop("inputs")
        for cls, config, weights in spec.split(old):
            part = cls.from_config(config)
            x = part(x)
            if weights:
                part.set_weights(weights)
        return x

    def clone_and_remember(layer):
        new = clone(layer)
        originals[id(new)] = layer
        return new

    expanded = keras.models.clone_model(model, clone_function=clone_and_remember, call_function=call,
                                        recursive=True)
    for old, new in pairs:
        if old.weights and split_lookup(old) is None and not isinstance(old, keras.Model):
            new.set_weights(old.get_weights())
    return expanded
