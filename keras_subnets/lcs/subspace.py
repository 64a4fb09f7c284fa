# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Turning a plain Keras model into a compressible subspace, and choosing α."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import numpy as np

from keras_subnets import graph, registry
from keras_subnets.lcs import coordinates as alpha_lib
from keras_subnets.lcs.lcs_batch_normalization import LcsBatchNormalization, band_edges
from keras_subnets.lcs.lcs_layer import LcsLayerMixin
from keras_subnets.lcs.subspace_model import SubspaceModel
from keras_subnets.model_layers import functional_io, model_layers, require_built
from keras_subnets.selection import switched
from keras_subnets.variables import copy_into

NORMS = ("group", "instance", "batch_per_level")

# Normalisation layers subspace() cannot carry over: their statistics or
# affine terms would be shared by every α with no replacement defined here.
_OTHER_NORMS = tuple(
    getattr(keras.layers, name) for name in (
        "LayerNormalization", "UnitNormalization", "SpectralNormalization", "RMSNormalization",
        "Normalization",
    ) if hasattr(keras.layers, name)
)


def _lcs_class(layer):
    return registry.lcs_class(layer)


def _groups(channels: int, wanted: int) -> int:
    """Largest divisor of ``channels`` not above ``wanted`` (GroupNorm needs one)."""
    for g in range(min(wanted, channels), 0, -1):
        if channels % g == 0:
            return g
    return 1


def _structured_flags(model: keras.Model) -> dict[str, dict]:
    """Per weight layer: does it slice its inputs, its outputs, over which tile."""
    weight_layers = [la for la in model_layers(model) if _lcs_class(la) is not None]
    sources, flags = {}, {}
    for layer in weight_layers:
        source, tile, _ = graph.trace_source(layer, what="structured LCS")
        sources[layer.name] = (source, tile)
    feeding = {id(s) for s, _ in sources.values() if s is not None}
    for layer in weight_layers:  # topological order: a source is settled before its consumers
        source, tile = sources[layer.name]
        sliced_inputs = source is not None and flags[source.name]["structured_outputs"]
        # A depthwise layer's channels follow its input's; a classifier keeps every class.
        outputs = sliced_inputs if registry.is_depthwise(layer) else id(layer) in feeding
        flags[layer.name] = {"structured_inputs": bool(sliced_inputs), "structured_outputs": bool(outputs),
                             "input_tile": int(tile)}
    return flags


def subspace(
    model: keras.Model,
    kind: str = "unstructured",
    variant: str = "point",
    norm: str = "group",
    *,
    groups: int = 32,
    alpha_bins: int = 4,
    alpha_bands: str = "linear",
    min_bits: int = 3,
    max_bits: int = 8,
    regularization: float = 1.0,
    line_init: str = "random",
    **training_options,
) -> SubspaceModel:
    """Clones ``model`` into a `SubspaceModel` that trains an LCS subspace.

    `Dense`, `Conv1D`, `Conv2D`, `DepthwiseConv1D` and `DepthwiseConv2D`
    become their LCS versions (`keras_subnets.registry`; a `SeparableConv1D`
    or `SeparableConv2D` becomes its depthwise and pointwise parts) with their
    weights kept (the α = 0 endpoint of a
    line); `BatchNormalization` is replaced according to ``norm``.
    Weight-free layers pass through.

    Args:
        model: a built Sequential or Functional model.
        kind: ``"unstructured"``, ``"structured"`` or ``"bits"``.
        variant: ``"point"`` (LCS+P) or ``"line"`` (LCS+L).
        norm: what replaces BatchNormalization: ``"group"`` (GroupNorm with
            up to ``groups`` groups, LCS's choice for unstructured and bits),
            ``"instance"`` (LCS's choice for structured) or
            ``"batch_per_level"`` (`LcsBatchNormalization`, foldable into the
            weights on a micro-controller, one row per band of α).
        groups: ``group`` only: wanted number of groups (the largest divisor
            of the channel count not above it is used).
        alpha_bins: ``batch_per_level`` only: number of α bands.
        alpha_bands: ``batch_per_level`` only: ``"linear"`` (equal bands) or
            ``"geometric"`` (equal ratios from ``alpha_min`` to 1: narrow
            bands at the sparse end, where activations change fastest).
        min_bits: ``bits`` only: bit width at α = 0 (3..8).
        max_bits: ``bits`` only: bit width at α = 1 (3..8).
        regularization: LCS+L's β of β·cos²(w₀, w₁).
        line_init: ``"random"`` (w₁ freshly initialised, as the paper trains
            from scratch) or ``"copy"`` (w₁ = w₀, to start from a trained model).
        **training_options: `SubspaceModel` options (``alpha_min``,
            ``sandwich``, ``sampling``, ``draw_spacing``, ``stratified_draws``,
            ``inner_gradient``, ``freeze_order``, ``per_layer_bits``,
            ``warmup_fraction``, ``warmup_steps``, ``warmup_power``, ``seed``).

    Returns:
        The new, uncompiled `SubspaceModel`; the input model is not changed.

    Raises:
        ValueError: naming the offending layer or argument.
    """
    _validate(model, kind, variant, norm, line_init, min_bits, max_bits, alpha_bins)
    # Structured trains α from 0 (a quarter of the units); the others from alpha_min.
    low = 0.0 if kind == "structured" else float(training_options.get("alpha_min", 0.025))
    if alpha_bands == "geometric" and not 0.0 < low < 1.0:
        raise ValueError(f"subspace(): geometric α bands need the smallest trained α in (0, 1), got {low} "
                         f"(kind={kind!r}); use alpha_bands='linear'")
    edges = band_edges(int(alpha_bins), alpha_bands, low)
    model = registry.expand_split_layers(model)
    flags = _structured_flags(model) if kind == "structured" else {}
    lcs_options = {"compression": kind, "variant": variant, "min_bits": min_bits, "max_bits": max_bits,
                   "regularization": regularization}
    pairs = []

    def clone(layer):
        config = layer.get_config()
        lcs_cls = _lcs_class(layer)
        if lcs_cls is not None:
            config.pop("quantization_config", None)
            new = lcs_cls.from_config({**config, **lcs_options, **flags.get(layer.name, {})})
        elif type(layer) is keras.layers.BatchNormalization:
            new = _replace_batch_norm(layer, config, norm, groups, edges)
        elif layer.weights and not isinstance(layer, (keras.Model, keras.layers.GroupNormalization)):
            supported = [spec.name for spec in registry.WEIGHT_LAYERS if spec.lcs_class is not None]
            raise ValueError(
                f"layer '{layer.name}' ({type(layer).__name__}) has weights but no LCS "
                f"version; supported: {', '.join(supported)}, BatchNormalization, GroupNormalization "
                "(nest() gives sub-networks to more layer types)"
            )
        else:
            new = layer.__class__.from_config(config)
        pairs.append((layer, new))
        return new

    def call(layer, *args, **kwargs):
        # BatchNormalization's graph nodes carry mask=; GroupNormalization takes none.
        if isinstance(layer, keras.layers.GroupNormalization):
            kwargs.pop("mask", None)
        return layer(*args, **kwargs)

    cloned = keras.models.clone_model(model, clone_function=clone, call_function=call, recursive=True)
    _copy_weights(pairs, copy_line_end=variant == "line" and line_init == "copy")
    inputs, outputs = functional_io(cloned)
    return SubspaceModel(inputs=inputs, outputs=outputs, name=f"{model.name}_lcs", **training_options)



def _validate(model, kind: str, variant: str, norm: str, line_init: str, min_bits: int, max_bits: int,
              alpha_bins: int) -> None:
    """Checks subspace()'s arguments and that every layer of ``model`` can join a subspace."""
    if kind not in alpha_lib.KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {alpha_lib.KINDS}")
    if variant not in alpha_lib.VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {alpha_lib.VARIANTS}")
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; expected one of {NORMS}")
    if line_init not in ("random", "copy"):
        raise ValueError(f"unknown line_init {line_init!r}; expected 'random' or 'copy'")
    alpha_lib.validate_bits(min_bits, max_bits, where="subspace()")
    require_built(model, "subspace()")
    for layer in model_layers(model):
        if isinstance(layer, (LcsLayerMixin, LcsBatchNormalization)):
            raise ValueError(f"layer '{layer.name}' is already an LCS layer")
        if isinstance(layer, _OTHER_NORMS) or (
            isinstance(layer, keras.layers.BatchNormalization) and (layer.renorm or layer.synchronized)
        ):
            raise ValueError(
                f"layer '{layer.name}' ({type(layer).__name__}) is a normalisation layer that "
                "subspace() does not support; use BatchNormalization (replaced according to "
                f"norm=, one of {NORMS}) or GroupNormalization"
            )
    if not 1 <= int(alpha_bins) <= 16:
        raise ValueError(f"subspace(): alpha_bins must lie in 1..16, got {alpha_bins}")

def _copy_weights(pairs: list, copy_line_end: bool) -> None:
    """Copies each original layer's weights into its replacement (through numpy).

    With ``copy_line_end`` a line's α = 1 endpoint starts as the α = 0 one.
    """
    for old, new in pairs:
        if isinstance(new, LcsLayerMixin):
            copy_into(new.kernel, old.kernel)
            if old.use_bias:
                copy_into(new.bias, old.bias)
            if copy_line_end:
                copy_into(new.kernel_end, old.kernel)
                if old.use_bias:
                    copy_into(new.bias_end, old.bias)
        elif isinstance(new, LcsBatchNormalization):
            new.load_dense(old.gamma if old.scale else None, old.beta if old.center else None,
                           old.moving_mean, old.moving_variance)
        elif isinstance(new, keras.layers.GroupNormalization) and isinstance(old, keras.layers.BatchNormalization):
            # The affine terms carry over; the statistics are recomputed per sample.
            if old.scale:
                copy_into(new.gamma, old.gamma)
            if old.center:
                copy_into(new.beta, old.beta)
        elif old.weights:
            new.set_weights(old.get_weights())


def _replace_batch_norm(layer, config: dict, norm: str, groups: int, edges: list[float]):
    if norm == "batch_per_level":
        return LcsBatchNormalization.from_config({**config, "bins": len(edges) + 1, "edges": edges})
    axis = config.get("axis", -1)
    if axis not in (-1, len(layer.input.shape) - 1):
        raise ValueError(f"layer '{layer.name}': only channels-last BatchNormalization can be replaced (axis={axis})")
    channels = int(layer.input.shape[-1])
    return keras.layers.GroupNormalization(
        groups=-1 if norm == "instance" else _groups(channels, int(groups)),
        epsilon=config.get("epsilon", 1e-3), center=config.get("center", True),
        scale=config.get("scale", True), name=layer.name,
    )


def _alpha_holders(model: keras.Model) -> list:
    holders = [la for la in model_layers(model)
               if isinstance(la, (LcsLayerMixin, LcsBatchNormalization))]
    if not holders:
        raise ValueError(f"model '{model.name}' holds no LCS layer; convert it with keras_subnets.lcs.subspace()")
    return holders


def get_alpha(model: keras.Model) -> float:
    """The model-wide α used outside training."""
    values = {float(np.round(keras.ops.convert_to_numpy(la.alpha), 6)) for la in _alpha_holders(model)}
    if len(values) != 1:
        raise ValueError(f"model '{model.name}' has layers at different α {sorted(values)}")
    return values.pop()


def set_alpha(model: keras.Model, alpha: float) -> None:
    """Makes ``alpha`` the α of every LCS layer for ``predict``/``evaluate``.

    A variable write: compiled functions see it at once, nothing is retraced.

    Raises:
        ValueError: if ``alpha`` lies outside [0, 1] or the model has no LCS layer.
    """
    value = alpha_lib.validate_alpha(alpha)
    for layer in _alpha_holders(model):
        layer.alpha.assign(value)


@contextlib.contextmanager
def alpha(model: keras.Model, value: float) -> Iterator[keras.Model]:
    """Context manager that runs ``model`` at α = ``value`` and restores the previous α.

    Example:
        >>> with keras_subnets.lcs.alpha(model, 0.3):
        ...     fast = model.predict(x)
    """
    with switched(model, value, get_alpha, set_alpha):
        yield model
