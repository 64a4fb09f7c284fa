"""Reference models used by the demo, notebooks, tests and benchmarks."""

from __future__ import annotations

import keras


def quickstart_cnn(input_shape=(28, 28, 1), classes: int = 10, name: str = "quickstart_cnn", api=keras):
    """A small depthwise-separable CNN for Fashion-MNIST (about 13 k weights).

    Conv 3x3/2 (32) → [DW 3x3 → PW] x2 (64, 128) with BatchNorm and ReLU, global
    average pooling and a Dense classifier: every layer kind the library
    supports, small enough for a Cortex-M4's flash and RAM.

    Args:
        api: the Keras module to build with; benchmarks pass ``tf_keras`` to
            build the identical model for tfmot baselines.
    """
    layers = api.layers
    inputs = api.Input(input_shape, name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for i, (filters, stride) in enumerate(((64, 2), (128, 1)), start=1):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", name=f"dw{i}")(x)
        x = layers.BatchNormalization(name=f"dw{i}_bn")(x)
        x = layers.ReLU(name=f"dw{i}_relu")(x)
        x = layers.Conv2D(filters, 1, name=f"pw{i}")(x)
        x = layers.BatchNormalization(name=f"pw{i}_bn")(x)
        x = layers.ReLU(name=f"pw{i}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="classifier")(x)
    return api.Model(inputs, outputs, name=name)


def ds_cnn_s(input_shape=(28, 28, 1), classes: int = 10, name: str = "ds_cnn_s") -> keras.Model:
    """REDS's DS-CNN S, vision variant, with global average pooling.

    Conv2D 64 (3x3, stride 2) → 4 x [DepthwiseConv2D 3x3 → BN → LeakyReLU(0.3)
    → Conv2D 64 1x1 → BN → LeakyReLU(0.3)] → global average pooling → Dense.
    """
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.LeakyReLU(negative_slope=0.3, name="stem_act")(x)
    for i in range(1, 5):
        x = keras.layers.DepthwiseConv2D(3, padding="same", name=f"dw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"dw{i}_bn")(x)
        x = keras.layers.LeakyReLU(negative_slope=0.3, name=f"dw{i}_act")(x)
        x = keras.layers.Conv2D(64, 1, name=f"pw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"pw{i}_bn")(x)
        x = keras.layers.LeakyReLU(negative_slope=0.3, name=f"pw{i}_act")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)
