# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Turning a plain Keras model into one that holds nested sub-networks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import keras

from keras_subnets import levels as levels_lib
from keras_subnets import masks as masks_lib
from keras_subnets import registry, structured
from keras_subnets.layers import LevelBatchNormalization, SubnetBatchNormalization, SubnetLayerMixin
from keras_subnets.model_layers import functional_io, model_layers, require_built
from keras_subnets.models import SubnetModel
from keras_subnets.variables import copy_into


def _subnet_class(layer):
    return registry.subnet_class(layer)


def tfmot_prunable_layers(model: keras.Model) -> list[str]:
    """Names of the layers tfmot's ``prune_low_magnitude`` would prune.

    Every plain `Conv2D` and `Dense` layer; `DepthwiseConv2D` is left out
    because tfmot keeps it dense (its stripped depthwise kernels hold no
    zeros). Pass the result as ``nest(..., layers=...)`` to prune the same
    weights as a tfmot model and compare like with like.

    Args:
        model: a built Keras model.

    Returns:
        Layer names in model order.
    """
    return [la.name for la in model_layers(model)
            if type(la) in (keras.layers.Conv2D, keras.layers.Dense)]


def _feeds_batch_norm(layer) -> bool:
    consumers = [node.operation for node in layer._outbound_nodes]
    return len(consumers) == 1 and type(consumers[0]) is keras.layers.BatchNormalization


def nest(
    model: keras.Model,
    levels: Sequence[float],
    kind: str = "unstructured",
    *,
    widths: Mapping[str, Sequence[int]] | None = None,
    layers: Iterable[str] | None = None,
    keep_dense: Iterable[str | type] | None = None,
    layer_levels: Mapping[str, Sequence[float]] | None = None,
    keep_row_max: bool = True,
    shared_bn_affine: bool = False,
    **training_options,
) -> SubnetModel:
    """Clones ``model`` into a `SubnetModel` holding nested levels.

    Supported layers (`keras_subnets.registry`: `Dense`, `Conv1D`, `Conv2D`,
    `DepthwiseConv1D`, `DepthwiseConv2D`, `BatchNormalization`; a
    `SeparableConv1D`/`SeparableConv2D` becomes its depthwise and pointwise
    parts, ``<name>_depthwise`` and ``<name>_pointwise``) are swapped for
    their sub-network versions with the trained weights kept, like tfmot's
    ``prune_low_magnitude``; masks are computed from the weight magnitudes at
    once (a `MaskScheduler` callback can grow them gradually instead).
    Weight-free layers pass through. A layer with weights but no sub-network
    version (LSTM, attention, ...) is refused unless ``keep_dense`` names it.

    Args:
        model: a built Sequential or Functional model.
        levels: per-level sparsity (fraction of weights removed), sparsest
            first, e.g. ``[0.9, 0.75, 0.5, 0.0]``.
        kind: ``"unstructured"``, ``"row"``, ``"block"`` or ``"structured"``.
        widths: ``structured`` only: explicit per-level unit counts for some
            layers, ``{layer name: [width per level]}``.
        layers: names of the weight layers to nest; the others stay dense in
            every level (one followed by a BatchNorm becomes a sub-network
            layer holding all of its units in every level, so that the
            per-level BatchNorm folds into a level-switching operator).
            Default: all supported layers. tfmot's ``prune_low_magnitude``
            leaves ``DepthwiseConv2D`` dense; leave them out here too to
            compare like with like (docs/benchmarks.md).
        keep_dense: layer names or layer classes kept dense in every level:
            they stay plain Keras layers (a builtin TFLite operator after
            conversion) and cost the same at every level. Any layer with
            weights may be named, including those without a sub-network
            version (``LSTM``, ``GRU``, ``MultiHeadAttention``, ...). A
            supported layer followed by a BatchNorm behaves as one left out
            of ``layers``. A split layer's name keeps both parts dense.
        layer_levels: per-layer sparsity overrides, ``{name: [per level]}``.
        keep_row_max: keep each unit's largest weight in every level.
        shared_bn_affine: share BatchNorm's gamma/beta across levels (the
            statistics are always per level).
        **training_options: `SubnetModel` options (``level_weights``,
            ``sandwich``, ``distillation``, ...).

    Returns:
        The new, uncompiled `SubnetModel`; the input model is not changed.

    Raises:
        ValueError: naming the offending layer or argument.
    """
    levels = levels_lib.validate_sparsities(levels)
    layer_levels = _validate(model, levels, kind, widths, layer_levels)
    model, selected, kept_names, layer_levels = _expand_names(model, layers, keep_dense, layer_levels, widths)
    _, kept_classes = _keep_dense_policy(keep_dense)

    def kept_explicitly(layer) -> bool:
        return layer.name in kept_names or isinstance(layer, kept_classes)

    def kept(layer) -> bool:
        return kept_explicitly(layer) or (selected is not None and layer.name not in selected)

    pairs = []

    def clone(layer):
        if not isinstance(layer, keras.layers.Layer):
            return layer  # a stateless Keras operation on symbolic tensors (x + 3.0, ops.relu6)
        new = _nested_layer(layer, levels, kind, widths, layer_levels, keep_row_max, shared_bn_affine,
                            kept(layer), kept_explicitly(layer))
        pairs.append((layer, new))
        return new

    cloned = keras.models.clone_model(model, clone_function=clone, recursive=True)
    if not any(isinstance(new, SubnetLayerMixin) for _, new in pairs):
        chosen = "" if selected is None else f" among layers={sorted(selected)}"
        raise ValueError(
            f"model '{model.name}' has no layer to nest{chosen}: nest() gives sub-networks to "
            f"{registry.supported_names()} layers, and found none"
        )
    _copy_weights(pairs)
    inputs, outputs = functional_io(cloned)
    result = SubnetModel(inputs=inputs, outputs=outputs, name=f"{model.name}_subnets",
                         levels=levels, **training_options)
    if kind == "structured":
        structured.plan_structured(result, levels, widths)
    return result


def _validate(model, levels: list[float], kind: str, widths, layer_levels) -> dict:
    """Checks nest()'s arguments; returns ``layer_levels`` validated."""
    if kind not in masks_lib.MASK_KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {masks_lib.MASK_KINDS}")
    if widths and kind != "structured":
        raise ValueError("widths= applies to kind='structured' only")
    require_built(model, "nest()")
    for layer in model_layers(model):
        if isinstance(layer, (SubnetLayerMixin, LevelBatchNormalization)):
            raise ValueError(f"layer '{layer.name}' is already a sub-network layer")
    layer_levels = {name: levels_lib.validate_sparsities(v, where=f"layer_levels['{name}']")
                    for name, v in (layer_levels or {}).items()}
    for name, v in layer_levels.items():
        if len(v) != len(levels):
            raise ValueError(f"layer_levels['{name}'] has {len(v)} entries for {len(levels)} levels")
    return layer_levels


def _expand_names(model, layers, keep_dense, layer_levels: dict, widths):
    """Splits the split layers and carries every name argument to their parts.

    Returns:
        ``(model, selected, kept_names, layer_levels)`` with split layers
        replaced by their parts; a name that is no layer is refused.
    """
    selected = None if layers is None else set(layers)
    parts = registry.split_names(model)
    names = {la.name for la in model_layers(model)}
    names |= {part for split in parts.values() for part in split}
    kept_names, _ = _keep_dense_policy(keep_dense)
    missing = (set(selected or ()) | set(layer_levels) | set(widths or {}) | kept_names) - names
    if missing:
        raise ValueError(f"no layer named {sorted(missing)} in model '{model.name}'")
    expanded = registry.expand_split_layers(model)
    if selected is not None:
        selected = _with_parts(selected, parts)
    layer_levels = {part: v for name, v in layer_levels.items() for part in parts.get(name, [name])}
    return expanded, selected, _with_parts(kept_names, parts), layer_levels


def _nested_layer(layer, levels, kind, widths, layer_levels, keep_row_max, shared_bn_affine,
                  kept: bool, kept_explicitly: bool):
    """The layer that replaces ``layer`` in the nested model (without weights yet)."""
    config = layer.get_config()
    subnet_cls = _subnet_class(layer)
    if subnet_cls is not None and not kept:
        config.pop("quantization_config", None)
        return subnet_cls.from_config({
            **config,
            "levels": layer_levels.get(layer.name, levels),
            "mask_kind": kind,
            "level_widths": (widths or {}).get(layer.name),
            "keep_row_max": keep_row_max,
        })
    if subnet_cls is not None and kind != "structured" and _feeds_batch_norm(layer):
        # Kept dense but followed by a BatchNorm, whose statistics still differ per level: a
        # sub-network layer with every unit in every level, so the converter folds that
        # per-level BatchNorm into one level-switching operator.
        config.pop("quantization_config", None)
        return subnet_cls.from_config({**config, "levels": levels, "mask_kind": "structured",
                                       "level_widths": None, "keep_row_max": keep_row_max})
    if type(layer) is registry.BATCH_NORM[0] and not kept_explicitly:
        return SubnetBatchNormalization.from_config({**config, "levels": levels, "shared_affine": shared_bn_affine})
    if (layer.weights and subnet_cls is None and not isinstance(layer, keras.Model)
            and type(layer) is not registry.BATCH_NORM[0] and not kept):
        raise ValueError(registry.unsupported_reason(layer))
    return layer.__class__.from_config(config)


def _copy_weights(pairs: list) -> None:
    """Copies each original layer's weights into its replacement (through numpy), then masks."""
    for old, new in pairs:
        if isinstance(new, SubnetBatchNormalization):
            new.load_dense(
                old.gamma if old.scale else None, old.beta if old.center else None,
                old.moving_mean, old.moving_variance,
            )
        elif isinstance(new, SubnetLayerMixin):
            copy_into(new.kernel, old.kernel)
            if old.use_bias:
                copy_into(new.bias, old.bias)
            new.update_masks()
        elif old.weights:
            new.set_weights(old.get_weights())


def _keep_dense_policy(keep_dense) -> tuple[set[str], tuple[type, ...]]:
    if keep_dense is None:
        return set(), ()
    if isinstance(keep_dense, (str, type)):
        keep_dense = [keep_dense]
    names, classes = set(), []
    for item in keep_dense:
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, type) and issubclass(item, keras.layers.Layer):
            classes.append(item)
        else:
            raise ValueError(f"keep_dense: expected layer names or Keras layer classes, got {item!r}")
    return names, tuple(classes)


def _with_parts(names: Iterable[str], parts: Mapping[str, Sequence[str]]) -> set[str]:
    """Names with every split layer's name replaced by its parts' names."""
    return {part for name in names for part in parts.get(name, [name])}
