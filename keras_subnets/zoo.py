# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

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


# MLPerf Tiny reference architectures (MLCommons, "MLPerf Tiny Benchmark", Banbury et al., NeurIPS 2021
# Datasets and Benchmarks; the models of github.com/mlcommons/tiny, benchmark/training/*), rebuilt in
# Keras 3 from their published layer lists. Input shapes and class counts default to the benchmark's;
# tests and the Fashion-MNIST benchmark pass smaller ones.


def ds_cnn_kws(input_shape=(49, 10, 1), classes: int = 12, filters: int = 64, name: str = "ds_cnn_kws"):
    """MLPerf Tiny keyword spotting: DS-CNN on 49x10 MFCC features.

    Conv2D 64 (10x4, stride 2) → BN → ReLU → 4 x [DepthwiseConv2D 3x3 → BN → ReLU →
    Conv2D 64 1x1 → BN → ReLU] → global average pooling → Dense (softmax).
    """
    inputs = keras.Input(input_shape, name="features")
    x = keras.layers.Conv2D(filters, (10, 4), strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for i in range(1, 5):
        x = keras.layers.DepthwiseConv2D(3, padding="same", name=f"dw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"dw{i}_bn")(x)
        x = keras.layers.ReLU(name=f"dw{i}_relu")(x)
        x = keras.layers.Conv2D(filters, 1, name=f"pw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"pw{i}_bn")(x)
        x = keras.layers.ReLU(name=f"pw{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


# MobileNetV1 separable blocks: (pointwise filters at alpha = 1, depthwise stride).
_MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                        (512, 1), (512, 1), (1024, 2), (1024, 1))


def mobilenet_v1(input_shape=(96, 96, 3), alpha: float = 0.25, classes: int = 2, blocks: int = 13,
                 name: str = "mobilenet_v1"):
    """MLPerf Tiny visual wake words: MobileNetV1 with width multiplier ``alpha`` (0.25) on 96x96 RGB.

    Conv2D 3x3/2 (32·alpha) → ``blocks`` x [DepthwiseConv2D 3x3 → BN → ReLU → Conv2D 1x1 → BN → ReLU]
    → global average pooling → Dense (softmax). ``blocks`` < 13 keeps the first blocks (tests).
    """
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(max(8, int(32 * alpha)), 3, strides=2, padding="same", use_bias=False,
                            name="stem")(inputs)  # fmt: skip
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for i, (filters, stride) in enumerate(_MOBILENET_V1_BLOCKS[:blocks], start=1):
        x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"dw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"dw{i}_bn")(x)
        x = keras.layers.ReLU(name=f"dw{i}_relu")(x)
        x = keras.layers.Conv2D(max(8, int(filters * alpha)), 1, use_bias=False, name=f"pw{i}")(x)
        x = keras.layers.BatchNormalization(name=f"pw{i}_bn")(x)
        x = keras.layers.ReLU(name=f"pw{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


def resnet8(input_shape=(32, 32, 3), classes: int = 10, name: str = "resnet8"):
    """MLPerf Tiny image classification: ResNet-8 on 32x32 RGB (CIFAR-10).

    Conv2D 16 3x3 → BN → ReLU → three residual stacks of 16 / 32 / 64 filters (two Conv2D 3x3 each, the
    second and third stride 2 with a 1x1 stride-2 Conv2D on the shortcut; `Add` then ReLU) → global
    average pooling → Dense (softmax).
    """
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for i, (filters, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
        y = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"s{i}_conv1")(x)
        y = keras.layers.BatchNormalization(name=f"s{i}_bn1")(y)
        y = keras.layers.ReLU(name=f"s{i}_relu1")(y)
        y = keras.layers.Conv2D(filters, 3, padding="same", name=f"s{i}_conv2")(y)
        y = keras.layers.BatchNormalization(name=f"s{i}_bn2")(y)
        if stride != 1:
            x = keras.layers.Conv2D(filters, 1, strides=stride, name=f"s{i}_shortcut")(x)
            x = keras.layers.BatchNormalization(name=f"s{i}_shortcut_bn")(x)
        x = keras.layers.Add(name=f"s{i}_add")([x, y])
        x = keras.layers.ReLU(name=f"s{i}_relu2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


def fc_autoencoder(input_dim: int = 640, hidden: int = 128, bottleneck: int = 8, name: str = "fc_autoencoder"):
    """MLPerf Tiny anomaly detection: the fully connected autoencoder on 640 log-mel features.

    4 x [Dense 128 → BN → ReLU] → Dense 8 → BN → ReLU → 4 x [Dense 128 → BN → ReLU] → Dense 640.
    """
    inputs = keras.Input((input_dim,), name="features")
    x = inputs
    for i, units in enumerate((hidden,) * 4 + (bottleneck,) + (hidden,) * 4, start=1):
        x = keras.layers.Dense(units, name=f"dense{i}")(x)
        x = keras.layers.BatchNormalization(name=f"dense{i}_bn")(x)
        x = keras.layers.ReLU(name=f"dense{i}_relu")(x)
    outputs = keras.layers.Dense(input_dim, name="reconstruction")(x)
    return keras.Model(inputs, outputs, name=name)


# MobileNetV2 inverted residual stages: (expansion t, filters c at alpha = 1, repeats n, first stride s).
_MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                        (6, 160, 3, 2), (6, 320, 1, 1))


def _divisible(v: float, divisor: int = 8) -> int:
    # MobileNetV2's channel rounding: a multiple of 8, never below 90 % of the request.
    out = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * v else out


def mobilenet_v2(input_shape=(32, 32, 3), alpha: float = 0.35, classes: int = 10, stages: int = 7,
                 name: str = "mobilenet_v2"):
    """MobileNetV2 (Sandler et al., CVPR 2018) with width multiplier ``alpha``: inverted residual blocks
    (1x1 expand → BN → ReLU6 → DepthwiseConv2D 3x3 → BN → ReLU6 → 1x1 project → BN, `Add` when the
    shape is kept) → Conv2D 1x1 1280 → global average pooling → Dense. ``stages`` < 7 keeps the first
    stages (tests).
    """
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(_divisible(32 * alpha), 3, strides=2, padding="same", use_bias=False,
                            name="stem")(inputs)  # fmt: skip
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(6.0, name="stem_relu")(x)
    block = 0
    for t, c, n, s in _MOBILENET_V2_STAGES[:stages]:
        out_channels = _divisible(c * alpha)
        for r in range(n):
            block += 1
            stride = s if r == 0 else 1
            in_channels = x.shape[-1]
            y = x
            if t != 1:
                y = keras.layers.Conv2D(in_channels * t, 1, use_bias=False, name=f"b{block}_expand")(y)
                y = keras.layers.BatchNormalization(name=f"b{block}_expand_bn")(y)
                y = keras.layers.ReLU(6.0, name=f"b{block}_expand_relu")(y)
            y = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"b{block}_dw")(y)
            y = keras.layers.BatchNormalization(name=f"b{block}_dw_bn")(y)
            y = keras.layers.ReLU(6.0, name=f"b{block}_dw_relu")(y)
            y = keras.layers.Conv2D(out_channels, 1, use_bias=False, name=f"b{block}_project")(y)
            y = keras.layers.BatchNormalization(name=f"b{block}_project_bn")(y)
            x = keras.layers.Add(name=f"b{block}_add")([x, y]) if stride == 1 and in_channels == out_channels else y
    last = 1280 if alpha <= 1.0 else _divisible(1280 * alpha)
    x = keras.layers.Conv2D(last if stages == 7 else 4 * x.shape[-1], 1, use_bias=False, name="head")(x)
    x = keras.layers.BatchNormalization(name="head_bn")(x)
    x = keras.layers.ReLU(6.0, name="head_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)
