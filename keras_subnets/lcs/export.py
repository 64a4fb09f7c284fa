# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""From a trained subspace to deployable networks.

* `export_levels`: chosen α points of an LCS+P ``unstructured`` or
  ``structured`` model become the nested levels of a `SubnetModel`, so
  `keras_subnets.convert.convert` writes all of them into one flatbuffer with
  every weight stored once. This works because a point's masks are nested:
  the top-k of the *same* |w| for a larger k contains the top-k for a smaller
  k, and a structured prefix contains every shorter prefix.
* `materialize`: a plain Keras model of the network at any α (any kind and
  variant) with the interpolated, masked or fake-quantized weights baked in.
  This is how LCS+L and ``bits`` leave the subspace.
* `storage_cost`: what the chosen α points cost to store, nested (one file,
  LCS+P) against materialised (one sparse network per α, LCS+L).

Variable bit width on a micro-controller. Our ``KS_*`` kernels and TFLite
Micro's builtins multiply int8 weights by int8 activations; a weight tensor
fake-quantized to b < 8 bits is still stored and multiplied as int8, so a
lower bit width buys **no speed and no RAM**, and in a ``.tflite`` file **no
flash** either (one byte per weight). What it can buy: (1) storage, if the
weights are packed to b bits and expanded by a look-up table at load time
(TFLite Micro's DECODE operator / a compression pass; not implemented
here); (2) nothing else on a Cortex-M without sub-byte SIMD. `materialize` of a
``bits`` model at α gives a float model whose weights lie on a b-bit grid
per tensor; TFLite's int8 conversion re-quantizes them per output channel
to 255 steps, which represents a 2^b-step grid only approximately (the
per-channel scale differs from the per-tensor one), so the int8 file is close
to, not identical with, the b-bit network. Several bit widths of one point do
not share integers, so they cannot be nested levels of one operator.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from keras_subnets import levels as levels_lib
from keras_subnets import masks as masks_lib
from keras_subnets import registry
from keras_subnets.layers import SubnetBatchNormalization
from keras_subnets.lcs import coordinates
from keras_subnets.lcs.lcs_batch_normalization import LcsBatchNormalization, alpha_bin
from keras_subnets.lcs.lcs_layer import LcsLayerMixin, keep_count_numpy, prefix_width_numpy
from keras_subnets.model_layers import model_layers
from keras_subnets.models import SubnetModel
from keras_subnets.variables import copy_into

_LCS_KEYS = ("compression", "variant", "min_bits", "max_bits", "regularization", "structured_inputs",
             "structured_outputs", "input_tile")
_TO_SUBNET = {spec.lcs(): spec.subnet_class for spec in registry.WEIGHT_LAYERS if spec.lcs_class}
_TO_PLAIN = {spec.lcs(): spec.keras_class for spec in registry.WEIGHT_LAYERS if spec.lcs_class}


def _np(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def _lcs_layers(model: keras.Model) -> list:
    found = model_layers(model, LcsLayerMixin)
    if not found:
        raise ValueError(f"model '{model.name}' holds no LCS layer; train one with keras_subnets.lcs.subspace()")
    return found


def _check_alphas(alphas: Sequence[float]) -> list[float]:
    if isinstance(alphas, (str, bytes)) or not isinstance(alphas, Sequence) or not alphas:
        raise ValueError(f"alphas: expected a non-empty list of α in [0, 1], got {alphas!r}")
    values = [coordinates.validate_alpha(a, where=f"alphas[{i}]") for i, a in enumerate(alphas)]
    if len(values) > levels_lib.MAX_LEVELS:
        raise ValueError(f"alphas: at most {levels_lib.MAX_LEVELS} levels are supported, got {len(values)}")
    for i in range(1, len(values)):
        if not values[i] > values[i - 1]:
            raise ValueError(
                f"alphas must be strictly increasing (most compressed first, like levels); "
                f"alphas[{i - 1}] = {values[i - 1]}, alphas[{i}] = {values[i]}"
            )
    return values


def _clone(model: keras.Model, suffix: str, replace) -> tuple[keras.Model, list]:
    """Clones ``model`` with ``replace(layer, config) -> layer or None`` per layer."""
    pairs = []

    def clone(layer):
        config = layer.get_config()
        new = replace(layer, config)
        if new is None:
            new = layer.__class__.from_config(config)
        pairs.append((layer, new))
        return new

    graph = keras.Model(model.inputs, model.outputs, name=f"{model.name}{suffix}")
    return keras.models.clone_model(graph, clone_function=clone), pairs


def _plain_config(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in _LCS_KEYS}


def materialize(model: keras.Model, alpha: float) -> keras.Model:
    """A plain Keras model computing ``model`` at ``alpha``.

    LCS layers become their Keras parents holding the effective weights at
    α (line point, mask or fake quantization applied); `LcsBatchNormalization`
    becomes a `BatchNormalization` with α's band. The result converts with
    TensorFlow's own TFLite converter like any Keras model.

    Raises:
        ValueError: if α lies outside [0, 1] or the model has no LCS layer.
    """
    value = coordinates.validate_alpha(alpha)
    _lcs_layers(model)

    def replace(layer, config):
        if isinstance(layer, LcsLayerMixin):
            return _TO_PLAIN[type(layer)].from_config(_plain_config(config))
        if isinstance(layer, LcsBatchNormalization):
            config = {k: v for k, v in config.items() if k not in ("bins", "edges", "shared_affine")}
            return keras.layers.BatchNormalization.from_config(config)
        return None

    cloned, pairs = _clone(model, f"_alpha{value:g}", replace)
    with coordinates.alpha_override(value):
        for old, new in pairs:
            if isinstance(old, LcsLayerMixin):
                kernel, bias = old.effective_weights()
                new.set_weights([_np(kernel)] + ([_np(bias)] if bias is not None else []))
            elif isinstance(old, LcsBatchNormalization):
                band = alpha_bin(value, old.edges)
                row = [_np(v) for v in (old.gamma if old.scale else None, old.beta if old.center else None,
                                        old.moving_mean, old.moving_variance) if v is not None]
                new.set_weights([r if r.ndim == 1 else r[band] for r in row])
            elif old.weights:
                new.set_weights(old.get_weights())
    return cloned


def _unstructured_assignment(kernel: np.ndarray, alphas: list[float]) -> np.ndarray:
    # The same ranking and the same float32 counts as the layer's top-k.
    size = kernel.size
    flat = np.abs(kernel).ravel()
    order = np.argsort(-flat, kind="stable")
    ranks = np.empty(size, np.int64)
    ranks[order] = np.arange(size)
    counts = np.array([keep_count_numpy(a, size) for a in alphas], np.int64)
    return np.searchsorted(counts, ranks, side="right").astype(np.int32).reshape(kernel.shape)


def _structured_widths(layer, alphas: list[float]) -> tuple[list[int], np.ndarray | None]:
    """Per level: units kept, and the first level of each input channel (None = all inputs)."""
    fractions = [float(coordinates.width_fraction(a)) for a in alphas]
    if registry.is_depthwise(layer):
        channels = int(layer.kernel.shape[-2])
        widths = [prefix_width_numpy(f, channels) if layer.structured_inputs else channels for f in fractions]
        inputs = masks_lib.prefix_levels(channels, widths) if layer.structured_inputs else None
        return [w * layer.depth_multiplier for w in widths], inputs
    units = layer._units
    widths = [prefix_width_numpy(f, units) if layer.structured_outputs else units for f in fractions]
    if not layer.structured_inputs:
        return widths, None
    total = int(layer.kernel.shape[-2])
    channels = total // layer.input_tile
    in_widths = [prefix_width_numpy(f, channels) for f in fractions]
    return widths, np.tile(masks_lib.prefix_levels(channels, in_widths), layer.input_tile)


def _exportable_kind(model: keras.Model, layers: list, values: list[float]) -> str:
    """The model's one compression kind, if its α points can become nested levels; else a clear error."""
    kinds = {(la.compression, la.variant) for la in layers}
    if len(kinds) != 1:
        raise ValueError(f"model '{model.name}' mixes LCS layers of kinds {sorted(kinds)}")
    kind, variant = kinds.pop()
    if variant == "line":
        raise ValueError(
            f"model '{model.name}' is an LCS+L line: the top-k of w(α) moves with α, so its "
            "levels are not nested and cannot share one set of weights; export each α with "
            "keras_subnets.lcs.materialize() (storage_cost() reports the price)"
        )
    if kind == "bits":
        raise ValueError(
            f"model '{model.name}' compresses by bit width: the int8 kernels gain no speed from "
            "fewer bits and different bit widths share no integers; export each α with "
            "keras_subnets.lcs.materialize()"
        )
    if kind == "unstructured" and values[0] <= 0.0:
        raise ValueError("alphas[0] = 0 keeps no weight in an unstructured subspace; use α > 0")
    trained_from = getattr(model, "alpha_min", None)
    if kind == "unstructured" and trained_from is not None and values[0] < trained_from - 1e-9:
        raise ValueError(
            f"alphas[0] = {values[0]:g} lies below alpha_min = {trained_from:g}, the most compressed α "
            f"model '{model.name}' was trained at: that network was never trained; export α >= "
            f"{trained_from:g} or train with a smaller alpha_min"
        )
    return kind


def _level_plans(layers: list, kind: str, values: list[float]) -> tuple[dict, list[float]]:
    """Per layer the level of each weight (unstructured) or unit widths (structured), and each level's sparsity."""
    if kind == "unstructured":
        # The ranking the layer's top-k reads: a frozen order, or |w|.
        plans = {id(la): {"assignment": _unstructured_assignment(_np(la.ranking()), values)} for la in layers}
        kept = np.array([sum(keep_count_numpy(a, int(np.prod(la.kernel.shape))) for la in layers)
                         for a in values], np.float64)
    else:
        plans = {}
        kept = np.zeros(len(values))
        for la in layers:
            widths, inputs = _structured_widths(la, values)
            plans[id(la)] = {"widths": widths, "inputs": inputs}
            for k in range(len(values)):
                kept[k] += int(np.sum(_structured_mask(la, widths[k], None if inputs is None else inputs <= k)))
    total = sum(int(np.prod(la.kernel.shape)) for la in layers)
    sparsities = [float(1.0 - c / total) for c in kept]
    for k in range(1, len(values)):
        if not sparsities[k] < sparsities[k - 1]:
            raise ValueError(
                f"alphas[{k - 1}] = {values[k - 1]} and alphas[{k}] = {values[k]} give the same network "
                f"({kept[k]:.0f} weights); choose α further apart"
            )
    return plans, sparsities


def _copy_levels(pairs: list, plans: dict, kind: str, values: list[float]) -> None:
    """Weights, level assignments and each α's BatchNorm band from the LCS layers into their clones."""
    for old, new in pairs:
        if isinstance(old, LcsLayerMixin):
            copy_into(new.kernel, old.kernel)
            if old.use_bias:
                copy_into(new.bias, old.bias)
            plan = plans[id(old)]
            if kind == "unstructured":
                new.kernel_level.assign(plan["assignment"])
            else:
                new.set_structured_levels(plan["widths"], plan["inputs"])
        elif isinstance(old, LcsBatchNormalization):
            bands = [alpha_bin(a, old.edges) for a in values]
            for name in ("gamma", "beta", "moving_mean", "moving_variance"):
                source = getattr(old, name, None)
                if source is None:
                    continue
                table = _np(source)
                getattr(new, name).assign(table if table.ndim == 1 else table[bands])
        elif old.weights:
            new.set_weights(old.get_weights())


def export_levels(model: keras.Model, alphas: Sequence[float], calibration_data=None) -> SubnetModel:
    """Maps α points of an LCS+P model onto the nested levels of a `SubnetModel`.

    Level ``k`` of the result computes exactly what ``model`` computes at
    ``alphas[k]``: ``unstructured`` levels keep the same top-k of the point's
    |w| (``mask_kind="unstructured"``), ``structured`` levels the same unit
    prefixes (``mask_kind="structured"``); `LcsBatchNormalization` becomes a
    per-level BatchNorm holding each α's band, GroupNorm/InstanceNorm stay.
    `keras_subnets.convert.convert` then writes every level into one file
    with each weight stored once.

    Args:
        model: a trained LCS+P model (`SubspaceModel`) of kind
            ``unstructured`` or ``structured``.
        alphas: α of each level, strictly increasing (most compressed first,
            like levels); at most 16.
        calibration_data: optional input samples. A band's BatchNorm row
            averages the activations of every α in the band, which at high
            sparsity can be far from those of the exported α; with samples,
            each level's statistics are re-estimated at exactly its α
            (`keras_subnets.recalibrate_batch_norm`). Without them the level
            computes exactly what ``model`` computes at that α.

    Returns:
        An uncompiled `SubnetModel` with ``len(alphas)`` levels.

    A ``structured`` layer fed through a Flatten exports correctly, but the
    converter's structured format needs input channels as a prefix, which a
    flattened prefix is not: use global pooling before the classifier.

    Raises:
        ValueError: for LCS+L (masks of w(α) are not nested: use `materialize`
            per α and see `storage_cost`), for ``bits`` (bit widths of one
            point share no integers: use `materialize`), and for bad α.
    """
    layers = _lcs_layers(model)
    values = _check_alphas(alphas)
    kind = _exportable_kind(model, layers, values)
    plans, sparsities = _level_plans(layers, kind, values)
    mask_kind = "structured" if kind == "structured" else "unstructured"

    def replace(layer, config):
        if isinstance(layer, LcsLayerMixin):
            plan = plans[id(layer)]
            return _TO_SUBNET[type(layer)].from_config({
                **_plain_config(config), "levels": sparsities, "mask_kind": mask_kind,
                "level_widths": plan.get("widths"), "keep_row_max": False,
            })
        if isinstance(layer, LcsBatchNormalization):
            config = {k: v for k, v in config.items() if k not in ("bins", "edges")}
            return SubnetBatchNormalization.from_config({**config, "levels": sparsities})
        return None

    cloned, pairs = _clone(model, "_levels", replace)
    _copy_levels(pairs, plans, kind, values)
    exported = SubnetModel(inputs=cloned.input, outputs=cloned.output, name=f"{model.name}_levels",
                           levels=sparsities)
    if calibration_data is not None:
        from keras_subnets.calibration import recalibrate_batch_norm

        recalibrate_batch_norm(exported, calibration_data)
    return exported


def _structured_mask(layer, width: int, inputs_on: np.ndarray | None) -> np.ndarray:
    """Kernel-shaped mask of a structured level: ``width`` units, ``inputs_on`` inputs."""
    shape = tuple(layer.kernel.shape)
    units = np.arange(layer._units) < width
    if registry.is_depthwise(layer):
        return np.broadcast_to(units.reshape(shape[-2], shape[-1]), shape)
    inputs = np.ones(shape[-2], bool) if inputs_on is None else inputs_on
    return np.broadcast_to(inputs[:, None] & units[None, :], shape)


def storage_cost(model: keras.Model, alphas: Sequence[float], bytes_per_value: int = 1) -> dict:
    """Weights to store for the α points, nested against materialised.

    Counts kernel values only (indices of a sparse format come on top of
    both). ``nested`` is what `export_levels` + `convert` store for an LCS+P
    model: the densest chosen level's weights, once. ``materialized`` is one
    sparse network per α (what LCS+L needs on a device that cannot re-sort
    top-k at run time): the sum over α of each network's kept weights.
    ``endpoints`` is the dense storage of the trained parameters (2× the
    weights for a line), for a device that interpolates itself.

    Returns:
        ``{"alphas", "kept" (per α), "nested", "materialized", "endpoints"}``
        in bytes, with ``bytes_per_value`` per weight (1 = int8).
    """
    layers = _lcs_layers(model)
    values = _check_alphas(alphas)
    kept = []
    for a in values:
        with coordinates.alpha_override(a):
            kept.append(sum(int(np.count_nonzero(_np(la.effective_weights()[0]))) for la in layers))
    dense = sum(int(np.prod(la.kernel.shape)) for la in layers)
    lines = sum(la.variant == "line" for la in layers)
    factor = 2 if lines else 1
    return {"alphas": values, "kept": [k * bytes_per_value for k in kept],
            "nested": max(kept) * bytes_per_value, "materialized": sum(kept) * bytes_per_value,
            "endpoints": factor * dense * bytes_per_value}
