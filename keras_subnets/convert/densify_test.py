# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`densify` on converted tiny models of every mask kind.

Oracles: Keras at the level (float32 files; the materialised Dense weights
against the layer's masked kernel), and the ``KS_*`` kernels running the
nested file in the tflite-micro wheel (int8 files, bit for bit: the
densified level must compute exactly what the custom operators compute).
"""

import keras
import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime

import keras_subnets as ks
from keras_subnets import tflm
from keras_subnets.convert import convert, densify, options, quantization
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.densify import _filter_scale, decode_rows, dense_rows, level_row
from keras_subnets.convert.reference import run_interpreter, run_tflm

KINDS = ["unstructured", "row", "block", "structured"]
LEVELS = [0.6, 0.3, 0.0]


def _base():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x))


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).random((12, 6, 6, 2), "float32")


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    return {kind: ks.nest(_base(), LEVELS, kind=kind) for kind in KINDS}


def _ops(blob):
    model = fb.load(blob)
    return [fb.op_name(model, op) for op in model.subgraphs[0].operators]


@pytest.mark.parametrize("kind", KINDS)
def test_float_levels_compute_the_keras_level_with_builtin_operators(kind, models, data):
    model = models[kind]
    blob = convert(model, quantize="float32", progress=False)
    outputs = []
    for k in range(len(LEVELS)):
        level = densify(blob, k)
        assert not any(name.startswith("KS_") for name in _ops(level)), _ops(level)
        parsed = fb.load(level)
        inputs = [fb._text(parsed.subgraphs[0].tensors[i].name) for i in parsed.subgraphs[0].inputs]
        assert "subnet" not in inputs and len(inputs) == 1
        with ks.level(model, k):
            expected = model.predict(data, verbose=0)
        outputs.append(run_tflm(level, data))
        np.testing.assert_allclose(outputs[-1], expected, rtol=1e-4, atol=1e-5, err_msg=f"{kind} level {k}")
        # The classifier's materialised weights are the Keras kernel under the level's mask.
        head = model.get_layer("head")
        fc = next(op for op in parsed.subgraphs[0].operators if fb.op_name(parsed, op) == "FULLY_CONNECTED")
        weights = fb.tensor_data(parsed, parsed.subgraphs[0].tensors[fc.inputs[1]])
        masked = keras.ops.convert_to_numpy(head.kernel) * head.level_masks()[k]
        np.testing.assert_allclose(weights, masked.T, rtol=1e-6, atol=1e-7)
    assert not np.allclose(outputs[0], outputs[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_int8_levels_match_the_custom_kernels_bit_for_bit(kind, models, data):
    blob = convert(models[kind], data, quantize="int8", progress=False)
    custom = tflm.run_levels(blob, data)
    for k in range(len(LEVELS)):
        builtin = run_interpreter(runtime.Interpreter.from_bytes(densify(blob, k)), data, dequantize=False)
        np.testing.assert_array_equal(builtin, custom[k], err_msg=f"{kind} level {k}")
    assert not np.array_equal(custom[0], custom[len(LEVELS) - 1])


def test_bad_levels_and_files_are_refused_by_name(models):
    blob = convert(models["row"], quantize="float32", progress=False)
    for level in (3, -1):
        with pytest.raises(ValueError, match=f"level {level} is out of range; the file has levels 0..2"):
            densify(blob, level)
    with pytest.raises(ValueError, match="no 'subnet' input: not written by keras_subnets.convert"):
        densify(densify(blob, 0), 0)


def test_table_and_dense_tensor_errors():
    opts = {"rows": 2, "cols": 3, "levels": 2, "format": 1, "tables": 7}
    with pytest.raises(ValueError, match="unknown table layout 7"):
        level_row(np.zeros(2), opts, np.zeros(2), 0)
    with pytest.raises(ValueError, match="KS_CONV_2D: the dense tensor has 5 elements, rows x cols = 6"):
        dense_rows("KS_CONV_2D", opts, np.zeros(5, np.int8))
    with pytest.raises(ValueError, match=r"option dense_top = 1 but the dense tensor \(input 8\) is missing"):
        decode_rows("KS_FULLY_CONNECTED", {**opts, "dense_top": 1}, None, None, None)
    prefix = {"rows": 4, "levels": 2, "tables": options.TABLES_PREFIX}
    # Level 1 stores its 3 active rows after level 0's 1; inactive rows read 0.
    row = level_row(np.array([10.0, 20.0, 21.0, 22.0]), prefix, np.array([1, 3]), 1)
    np.testing.assert_array_equal(row, [20.0, 21.0, 22.0, 0.0])


def test_filter_scales_reproduce_the_requantization_exactly():
    rng = np.random.default_rng(1)
    s_x, s_y = np.float32(0.0123), np.float32(0.0456)
    for s_w in rng.uniform(1e-4, 1e-1, 50).astype(np.float32):
        target = quantization.quantize_multiplier(quantization.effective_multiplier(s_x, s_w, s_y))
        found = _filter_scale(target[0], target[1], s_x, s_y)
        assert quantization.quantize_multiplier(quantization.effective_multiplier(s_x, found, s_y)) == target
    assert _filter_scale(0, 0, s_x, s_y) == 0.0
