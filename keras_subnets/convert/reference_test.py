# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The tflite-micro wheel runner against TensorFlow Lite's interpreter on the same int8 file."""

import numpy as np
import pytest
import tensorflow as tf

from keras_subnets.convert import reference


@pytest.fixture(scope="module")
def int8_model() -> bytes:
    """``relu(x W + b)`` with int8 input and output, calibrated by TensorFlow's converter."""
    rng = np.random.default_rng(0)
    w = tf.constant(rng.normal(size=(6, 4)).astype("float32"))
    b = tf.constant(rng.normal(size=4).astype("float32"))

    @tf.function(input_signature=[tf.TensorSpec([1, 6], tf.float32)])
    def dense(x):
        return tf.nn.relu(tf.matmul(x, w) + b)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([dense.get_concrete_function()], dense)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.normal(size=(1, 6)).astype("float32")] for _ in range(32))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def _tflite(data: bytes, x_int8: np.ndarray):
    """TensorFlow Lite's int8 outputs and the output quantization, one sample at a time."""
    interpreter = tf.lite.Interpreter(model_content=data)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    rows = []
    for sample in x_int8:
        interpreter.set_tensor(inp["index"], sample[None])
        interpreter.invoke()
        rows.append(interpreter.get_tensor(out["index"])[0])
    return np.array(rows), inp["quantization"], out["quantization"]


def test_float_samples_are_quantized_run_and_dequantized_as_tflite_does(int8_model):
    x = np.random.default_rng(1).normal(size=(5, 6)).astype("float32")
    _, (in_scale, in_zero), (out_scale, out_zero) = _tflite(int8_model, np.zeros((1, 6), np.int8))
    x_int8 = np.clip(np.round(x / in_scale + in_zero), -128, 127).astype(np.int8)
    expected, _, _ = _tflite(int8_model, x_int8)
    raw = reference.run_tflm(int8_model, x_int8)  # int8 samples pass unquantized
    np.testing.assert_array_equal(raw, (expected.astype(np.float32) - out_zero) * out_scale)
    np.testing.assert_array_equal(reference.run_tflm(int8_model, x), raw)
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(int8_model)
    np.testing.assert_array_equal(reference.run_interpreter(interpreter, x, dequantize=False), expected)
