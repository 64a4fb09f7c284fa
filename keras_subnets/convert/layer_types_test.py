# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Conv1D, DepthwiseConv1D, SeparableConv1D/2D and 1-D pooling through the converter and the KS_* kernels.

Oracles: Keras's own layers (the densest level of the float32 file against the
plain model) and the tflite-micro wheel running `densify`'s builtin-operator
file of each level (the KS_* kernels must match it bit for bit in int8).
"""

import keras
import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime

import keras_subnets as ks
from keras_subnets import tflm
from keras_subnets.convert import convert, densify, describe_operators
from keras_subnets.convert.reference import run_interpreter
from keras_subnets.testing import vary_batch_norm_per_level

LEVELS = [0.8, 0.5, 0.0]
L = keras.layers


def one_d_model() -> keras.Model:
    """Keyword-spotting-like 1-D network: every 1-D layer type the registry knows."""
    inputs = keras.Input((32, 4), name="signal")
    x = L.Conv1D(8, 3, strides=2, padding="same", name="conv")(inputs)
    x = L.BatchNormalization(name="conv_bn")(x)
    x = L.ReLU(name="conv_relu")(x)
    x = L.DepthwiseConv1D(3, padding="same", depth_multiplier=2, name="dw")(x)
    x = L.BatchNormalization(name="dw_bn")(x)
    x = L.ReLU(6.0, name="dw_relu")(x)
    x = L.MaxPooling1D(2, name="max_pool")(x)
    x = L.SeparableConv1D(12, 3, padding="same", activation="relu", name="sep")(x)
    x = L.AveragePooling1D(2, name="avg_pool")(x)
    x = L.Conv1D(10, 2, padding="causal", name="conv_causal")(x)  # PAD + a VALID conv in TFLite
    x = L.GlobalAveragePooling1D(name="gap")(x)
    outputs = L.Dense(5, name="logits")(x)
    return _randomized(keras.Model(inputs, outputs, name="one_d"))


def separable_model() -> keras.Model:
    inputs = keras.Input((12, 12, 3), name="image")
    x = L.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = L.ReLU(name="stem_relu")(x)
    x = L.SeparableConv2D(16, 3, depth_multiplier=2, padding="same", name="sep")(x)
    x = L.BatchNormalization(name="sep_bn")(x)
    x = L.ReLU(name="sep_relu")(x)
    x = L.GlobalMaxPooling2D(name="gmp")(x)
    outputs = L.Dense(4, name="logits")(x)
    return _randomized(keras.Model(inputs, outputs, name="separable"))


def _randomized(model: keras.Model) -> keras.Model:
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(-1.5, 1.5, c), rng.normal(0, 0.3, c), rng.normal(0, 0.2, c),
                               rng.uniform(0.2, 2.0, c)])
    return model


BUILDERS = {"one_d": one_d_model, "separable": separable_model}
FAST = {("one_d", "unstructured"), ("one_d", "structured"), ("separable", "block")}
CASES = [pytest.param(name, kind, marks=() if (name, kind) in FAST else pytest.mark.slow)
         for name in BUILDERS for kind in ("unstructured", "row", "block", "structured")]


def _data(model: keras.Model, n: int) -> np.ndarray:
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(1).uniform(-1, 1, size=(n, *shape)).astype("float32")


def _run_builtin(blob: bytes, x: np.ndarray) -> np.ndarray:
    interp = runtime.Interpreter.from_bytes(blob)
    return run_interpreter(interp, x, None, dequantize=False)


@pytest.mark.parametrize("name, kind", CASES)
def test_every_level_on_the_ks_kernels_matches_densify(name, kind):
    keras.utils.set_random_seed(0)
    base = BUILDERS[name]()
    x_cal, x = _data(base, 64), _data(base, 3)
    model = ks.nest(base, LEVELS, kind=kind)
    vary_batch_norm_per_level(model)
    float_blob = convert(model, quantize="float32", progress=False)
    int8_blob = convert(model, x_cal, quantize="int8", progress=False)
    layers = {op["layer"] for op in describe_operators(int8_blob)}
    expected = {la.name for la in model.subnet_layers() if isinstance(la, ks.layers.SubnetLayerMixin)}
    assert layers == expected, "every sub-network layer is a KS_* operator"
    if name == "separable":
        assert {"sep_depthwise", "sep_pointwise"} <= layers
    for quantize, blob in (("float32", float_blob), ("int8", int8_blob)):
        got = tflm.run_levels(blob, x)
        for level, out in got.items():
            ref = _run_builtin(densify(blob, level), x)
            if quantize == "int8":
                np.testing.assert_array_equal(out, ref, err_msg=f"{name} {kind} int8 level {level}")
            else:
                np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{name} {kind} float32 level {level}")
        assert not np.array_equal(got[0], got[len(LEVELS) - 1]), "the kernels switch level"
    # The float32 file's densest level computes the nested model's densest level (Keras's own layers
    # at full width, up to BatchNorm statistics varied per level).
    with ks.level(model, len(LEVELS) - 1):
        keras_out = model.predict(x, verbose=0)
    np.testing.assert_allclose(tflm.run_levels(float_blob, x, levels=[len(LEVELS) - 1])[len(LEVELS) - 1],
                               keras_out, rtol=1e-4, atol=1e-4)


def test_a_kept_layer_tensorflow_cannot_lower_is_named_in_the_conversion_error():
    inputs = keras.Input((12, 5))
    x = L.Conv1D(8, 3, padding="causal", name="conv")(inputs)
    x = L.LSTM(6, name="lstm")(x)
    model = ks.nest(keras.Model(inputs, L.Dense(3, name="head")(x)), LEVELS, keep_dense=["lstm"])
    with pytest.raises(ks.convert.ConversionError,
                       match=r"TensorFlow's converter failed on level 2.*'lstm' \(LSTM\).*unroll=True"):
        convert(model, quantize="float32", progress=False)
