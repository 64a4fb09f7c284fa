# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Plain Keras models of one level, and how weight layers pair with BatchNorms."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from keras_subnets import registry
from keras_subnets.convert.pooling import as_average_pool
from keras_subnets.layers import LevelBatchNormalization, SubnetBatchNormalization, SubnetLayerMixin
from keras_subnets.model_layers import model_layers

_PLAIN = {
    **{spec.subnet_class: spec.keras_class for spec in registry.WEIGHT_LAYERS},
    SubnetBatchNormalization: keras.layers.BatchNormalization,
}
_SUBNET_KEYS = ("levels", "mask_kind", "level_widths", "keep_row_max", "shared_affine")


def _np(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def subnet_layers(model: keras.Model) -> list:
    """Sub-network weight layers in the model's topological order."""
    return model_layers(model, SubnetLayerMixin)


def _consumers(layer) -> list:
    found = []
    for node in layer._outbound_nodes:
        found.append(node.operation)
    return found


@dataclass
class FoldedLayer:
    """A sub-network weight layer and the per-level BatchNorm folded into it."""

    layer: SubnetLayerMixin
    batch_norm: LevelBatchNormalization | None

    def level_affine(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-output-unit ``(a, c)``: level output = ``a * (masked conv) + c``.

        ``c`` includes the layer's (masked) bias; without a BatchNorm ``a = 1``.
        """
        units = self.layer._units
        bias = np.zeros(units)
        if self.layer.use_bias:
            keep = _np(self.layer.unit_level) <= level
            bias = _np(self.layer.bias).astype(np.float64) * keep
        if self.batch_norm is None:
            return np.ones(units), bias
        bn = self.batch_norm
        var = _np(bn.moving_variance)[level].astype(np.float64)
        mean = _np(bn.moving_mean)[level].astype(np.float64)
        gamma = np.ones(units)
        beta = np.zeros(units)
        if bn.scale:
            gamma = _np(bn.gamma).astype(np.float64)
            gamma = gamma if bn.shared_affine else gamma[level]
        if bn.center:
            beta = _np(bn.beta).astype(np.float64)
            beta = beta if bn.shared_affine else beta[level]
        a = gamma / np.sqrt(var + bn.epsilon)
        return a, a * (bias - mean) + beta


def fold_plan(model: keras.Model) -> list[FoldedLayer]:
    """Pairs each weight layer with the per-level BatchNorm directly after it.

    Raises:
        ValueError: a per-level BatchNorm whose levels differ and that does
            not directly follow a weight layer (it cannot become part of a
            custom operator and a builtin op cannot switch level).
    """
    plan, folded = [], set()
    for layer in subnet_layers(model):
        consumers = _consumers(layer)
        bn = None
        if len(consumers) == 1 and isinstance(consumers[0], LevelBatchNormalization):
            bn = consumers[0]
            if bn.axis not in (-1, len(bn.input.shape) - 1):
                bn = None
        if bn is not None:
            folded.add(id(bn))
        plan.append(FoldedLayer(layer, bn))
    for la in model_layers(model):
        if isinstance(la, LevelBatchNormalization) and id(la) not in folded:
            tables = [_np(v) for v in (la.moving_mean, la.moving_variance)]
            if not la.shared_affine:
                tables += [_np(v) for v in (la.gamma, la.beta) if v is not None]
            if any(not np.array_equal(t, np.broadcast_to(t[-1], t.shape)) for t in tables):
                raise ValueError(
                    f"layer '{la.name}': a per-level BatchNorm must directly follow a sub-network weight "
                    "layer (and be its only consumer) to be folded into the "
                    "level-switching operator; move it, or share its statistics across levels"
                )
    return plan


def _level_clone(model: keras.Model, level: int, suffix: str, resize, layer_weights,
                 average_pool: bool = True) -> keras.Model:
    """Clones ``model`` into plain Keras layers carrying ``level``'s weights.

    Args:
        resize: ``(subnet layer, config) -> None`` may shrink a layer's config.
        layer_weights: ``(old subnet weight layer, level) -> [kernel, (bias)]``.
        average_pool: global average pooling becomes an average pool over the
            whole map (`keras_subnets.convert.pooling`).
    """
    count = model.num_levels if hasattr(model, "num_levels") else None
    if count is not None and not 0 <= level < count:
        raise ValueError(f"model '{model.name}' has levels 0..{count - 1}; got level {level}")
    pairs = []

    def clone(layer):
        if not isinstance(layer, keras.layers.Layer):
            return layer  # a stateless Keras operation on symbolic tensors (x + 3.0)
        plain_cls = _PLAIN.get(type(layer))
        config = layer.get_config()
        if plain_cls is None:
            new = (average_pool and as_average_pool(layer)) or layer.__class__.from_config(config)
        else:
            resize(layer, config)
            for key in _SUBNET_KEYS:
                config.pop(key, None)
            new = plain_cls.from_config(config)
        pairs.append((layer, new))
        return new

    graph = keras.Model(model.inputs, model.outputs, name=f"{model.name}_level{level}{suffix}")
    cloned = keras.models.clone_model(graph, clone_function=clone)
    for old, new in pairs:
        if isinstance(old, SubnetLayerMixin):
            new.set_weights(layer_weights(old, level))
        elif isinstance(old, SubnetBatchNormalization):
            channels = int(new.moving_mean.shape[0])

            def row(var, old=old, channels=channels):
                value = _np(var)
                return (value if value.ndim == 1 else value[level])[:channels]

            weights = [row(old.gamma)] if old.scale else []
            if old.center:
                weights.append(row(old.beta))
            new.set_weights(weights + [row(old.moving_mean), row(old.moving_variance)])
        elif old.weights:
            new.set_weights(old.get_weights())
    return cloned


def plain_model(model: keras.Model, level: int, average_pool: bool = True) -> keras.Model:
    """A standard Keras model computing ``model`` at ``level``.

    Sub-network layers become their Keras parents with the level's masked
    weights and BatchNorm row; the result converts with TensorFlow's TFLite
    converter and is the float reference for that level.

    Args:
        model: a sub-network model.
        level: the level to build.
        average_pool: replace ``GlobalAveragePooling2D`` by an average pool
            over the whole map, which TFLite converts to ``AVERAGE_POOL_2D``
            (fast on TFLite Micro) instead of ``MEAN`` (slow in int8); the
            same function, see `keras_subnets.convert.pooling`.
    """
    def masked(old, level):
        weights = [_np(old.kernel) * old.level_masks()[level]]
        if old.use_bias:
            weights.append(_np(old.bias) * (_np(old.unit_level) <= level))
        return weights

    return _level_clone(model, level, "", lambda layer, config: None, masked, average_pool)


def sliced_model(model: keras.Model, level: int) -> keras.Model:
    """A physically smaller standard Keras model of a ``structured`` level.

    Every structured layer keeps only its level's leading units and active
    input channels (what REDS deploys per sub-network); the result has the
    level's outputs and the level's true size.

    Raises:
        ValueError: if a sub-network layer is not ``structured``.
    """
    def width(layer) -> int:
        return int(np.sum(_np(layer.unit_level) <= level))

    def resize(layer, config):
        if not isinstance(layer, SubnetLayerMixin):
            return
        if layer.mask_kind != "structured":
            raise ValueError(f"layer '{layer.name}' is '{layer.mask_kind}'; only structured levels can be sliced")
        if "units" in config:
            config["units"] = width(layer)
        elif "filters" in config:
            config["filters"] = width(layer)

    def sliced(old, level):
        spec = registry.lookup(old, exact=False)
        kernel, active, w = _np(old.kernel), _np(old.kernel_level) <= level, width(old)
        if spec.depthwise:
            weights = [np.take(kernel, np.arange(w // old.depth_multiplier), axis=spec.input_axis)]
        elif spec.operator == "fully_connected":
            weights = [kernel[active[:, 0]][:, :w]]  # after a Flatten the active inputs interleave
        else:
            # A convolution's active input channels are a prefix: count those of the first filter.
            first = np.take(active, 0, axis=spec.output_axis)
            inputs = int(np.sum(first.any(axis=tuple(a for a in range(first.ndim) if a != spec.input_axis))))
            weights = [np.take(np.take(kernel, np.arange(inputs), axis=spec.input_axis), np.arange(w),
                               axis=spec.output_axis)]
        if old.use_bias:
            weights.append(_np(old.bias)[:w])
        return weights

    return _level_clone(model, level, "_sliced", resize, sliced)
