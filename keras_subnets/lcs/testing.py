# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""A tiny model for the LCS tests (seconds to trace and fit)."""

from __future__ import annotations

import keras
import numpy as np


def tiny_cnn(name: str = "tiny", flatten: bool = False) -> keras.Model:
    """Conv → BN → ReLU → depthwise → BN → ReLU → pointwise → BN → pool → Dense.

    Every layer kind LCS converts and a classifier, on 8×8×2 inputs. The pool
    is global average pooling, or with ``flatten`` a 2×2 max pool and a
    Flatten (structured input tiling, which the converter's structured
    format cannot express).
    """
    inputs = keras.Input((8, 8, 2), name="image")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = keras.layers.BatchNormalization(name="dw_bn")(x)
    x = keras.layers.ReLU(name="dw_relu")(x)
    x = keras.layers.Conv2D(12, 1, name="pw")(x)
    x = keras.layers.BatchNormalization(name="pw_bn")(x)
    x = keras.layers.ReLU(name="pw_relu")(x)
    if flatten:
        x = keras.layers.MaxPooling2D(2, name="pool")(x)
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(5, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


def tiny_data(samples: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, 8, 8, 2)).astype("float32"), rng.integers(0, 5, samples)


def assert_depthwise_keeps_channel_prefix(layer_class, plain_class, conv: dict, x: np.ndarray, alpha: float,
                                          **options) -> None:
    """A structured LCS depthwise layer at ``alpha`` keeps its input's channel prefix with every multiplier output.

    Oracles: a numpy mask over the kernel's channel axis (second to last) and
    ``plain_class`` (the Keras depthwise layer) given the effective weights.
    """
    from keras_subnets.lcs import alpha_override
    from keras_subnets.lcs.coordinates import width_fraction
    from keras_subnets.lcs.lcs_layer import prefix_width_numpy

    channels, multiplier = x.shape[-1], conv.get("depth_multiplier", 1)
    layer = layer_class(**conv, compression="structured", structured_inputs=True, **options)
    layer(x)
    outputs = channels * multiplier
    layer.bias.assign(np.arange(1, outputs + 1, dtype="float32"))
    kept = prefix_width_numpy(float(width_fraction(alpha)), channels)
    channel = (np.arange(channels) < kept).astype("float32")
    with alpha_override(alpha):
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.effective_weights())
        got = keras.ops.convert_to_numpy(layer(x))
    full = keras.ops.convert_to_numpy(layer.kernel)
    np.testing.assert_array_equal(kernel, full * channel[:, None])
    # Output c·multiplier + m reads channel c: the first kept·multiplier outputs stay.
    np.testing.assert_array_equal(bias, np.arange(1, outputs + 1) * (np.arange(outputs) < multiplier * kept))
    plain = plain_class(**conv)
    plain.build(x.shape)
    plain.set_weights([kernel, bias])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(plain(x)), rtol=1e-5, atol=1e-5)
