# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""REDS unit importance: Σ |W ⊙ ∂L/∂W| over a unit's weights, summed over mini-batches."""

from __future__ import annotations

import keras
import numpy as np

from keras_subnets import graph, registry
from keras_subnets.model_layers import model_layers


def _per_unit(layer, wg: np.ndarray) -> np.ndarray:
    # Output units are the last kernel axis, or input channel x multiplier for depthwise kernels.
    units = registry.lookup(layer, exact=False).unit_axis_view(wg)
    return units.reshape(-1, units.shape[-1]).sum(axis=0)


def _gradients(model: keras.Model, loss, xb: np.ndarray, yb: np.ndarray, variables: list) -> list[np.ndarray]:
    """∂loss/∂v of each variable in ``variables`` (inference-mode forward pass), on the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415

        with tf.GradientTape() as tape:
            value = loss(yb, model(xb, training=False))
        return [np.asarray(g) for g in tape.gradient(value, variables)]
    if backend == "jax":
        import jax  # noqa: PLC0415

        trainable, frozen = model.trainable_variables, model.non_trainable_variables
        index = {id(v): i for i, v in enumerate(trainable)}

        def value(params):
            y_pred, _ = model.stateless_call(params, [v.value for v in frozen], xb, training=False)
            return loss(yb, y_pred)

        grads = jax.grad(value)([v.value for v in trainable])
        return [np.asarray(grads[index[id(v)]]) for v in variables]
    if backend == "torch":
        for v in variables:
            v.value.grad = None
        loss(yb, model(xb, training=False)).backward()
        return [v.value.grad.detach().cpu().numpy() for v in variables]
    raise ValueError(f"REDS unit importance needs the TensorFlow, JAX or PyTorch backend, not {backend!r}")


def unit_importance(model: keras.Model, x, y, *, batches: int = 100, batch_size: int = 128,
                    loss=None) -> dict[str, np.ndarray]:
    """Importance of every output unit of every weight layer of the registry.

    Args:
        model: a Keras model (plain or with sub-network layers at their active level).
        x, y: data; ``batches`` mini-batches of ``batch_size`` are used.
        loss: a Keras loss; default the model's compiled loss, else sparse
            categorical cross-entropy on probabilities.

    Returns:
        ``{layer name: importance per output unit (channel for depthwise)}``.
        Bias terms are included.
    """
    layers = model_layers(model, graph.WEIGHT_LAYERS)
    if not layers:
        raise ValueError(f"model '{model.name}' has no {registry.supported_names()} layer to score")
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) == 0:
        raise ValueError("unit_importance needs data: got no samples")
    if loss is None:
        compiled = getattr(model, "loss", None)
        loss = keras.losses.get(compiled) if compiled else keras.losses.SparseCategoricalCrossentropy()
    variables = []
    for layer in layers:
        variables.append(layer.kernel)
        variables.append(layer.bias if layer.use_bias else None)
    scores = {layer.name: 0.0 for layer in layers}
    count = min(batches, int(np.ceil(len(x) / batch_size)))
    for b in range(count):
        xb, yb = x[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]
        present = [v for v in variables if v is not None]
        grads = dict(zip([id(v) for v in present], _gradients(model, loss, xb, yb, present), strict=True))
        for layer in layers:
            kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel))
            wg = np.abs(kernel * grads[id(layer.kernel)])
            unit = _per_unit(layer, wg)
            if layer.use_bias:
                unit = unit + np.abs(np.asarray(keras.ops.convert_to_numpy(layer.bias)) * grads[id(layer.bias)])
            scores[layer.name] = scores[layer.name] + unit
    return {name: np.asarray(v, np.float64) for name, v in scores.items()}


def magnitude_importance(model: keras.Model) -> dict[str, np.ndarray]:
    """Data-free fallback: Σ |W| per output unit."""
    out = {}
    for layer in model_layers(model):
        if isinstance(layer, graph.WEIGHT_LAYERS):
            out[layer.name] = _per_unit(layer, np.abs(np.asarray(keras.ops.convert_to_numpy(layer.kernel))))
    return out
