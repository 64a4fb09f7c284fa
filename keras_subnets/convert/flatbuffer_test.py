# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Editing a TFLite file, checked by running the edited file in TensorFlow Lite's interpreter."""

import numpy as np
import pytest
import tensorflow as tf
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from keras_subnets.convert import flatbuffer as fb

OFFSET = np.array([[1.0, -2.0, 3.0, -4.0]], np.float32)


@pytest.fixture(scope="module")
def add_model() -> bytes:
    """``relu(x + OFFSET)``: one ADD reading a constant, from TensorFlow's converter."""

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    def add(x):
        return tf.nn.relu(x + tf.constant(OFFSET))

    converter = tf.lite.TFLiteConverter.from_concrete_functions([add.get_concrete_function()], add)
    return converter.convert()


def _run(data: bytes, x: np.ndarray) -> np.ndarray:
    interpreter = tf.lite.Interpreter(model_content=data)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _constant_input(model):
    """(operator, input position, tensor index) of the ADD's constant operand."""
    sg = model.subgraphs[0]
    (op,) = [op for op in sg.operators if fb.op_name(model, op) == "ADD"]
    for position, index in enumerate(op.inputs):
        if fb.tensor_data(model, sg.tensors[index]) is not None:
            return op, position, int(index)
    raise AssertionError("the ADD has no constant input")


def test_load_save_round_trip_runs_the_same_and_aligns_buffers(add_model):
    x = np.array([[0.5, 1.0, -5.0, 9.0]], np.float32)
    model = fb.load(add_model)
    op, _, index = _constant_input(model)
    assert fb.op_name(model, op) == "ADD"
    np.testing.assert_array_equal(fb.tensor_data(model, model.subgraphs[0].tensors[index]).reshape(1, 4), OFFSET)
    saved = fb.save(model)
    np.testing.assert_array_equal(_run(saved, x), np.maximum(x + OFFSET, 0))
    raw = schema.Model.GetRootAs(saved, 0)
    for b in range(raw.BuffersLength()):
        buffer = raw.Buffers(b)
        if buffer.DataLength():
            # The vector's length word sits 4 bytes before the data, which must be 16-byte aligned.
            start = buffer._tab.Vector(buffer._tab.Offset(4))
            assert start % 16 == 0, f"buffer {b} data at byte {start}"


def test_a_constant_replaced_and_compacted_is_what_the_interpreter_adds(add_model):
    model = fb.load(add_model)
    sg = model.subgraphs[0]
    op, position, old = _constant_input(model)
    replacement = np.array([[10.0, 20.0, -30.0, 0.25]], np.float32)
    tensors_before, buffers_before = len(sg.tensors), len(model.buffers)
    new = fb.add_constant(model, sg, "replacement", replacement)
    inputs = np.asarray(op.inputs).copy()
    inputs[position] = new
    op.inputs = inputs
    fb.compact(model)
    # The old constant and its buffer are gone; the new one took their place.
    assert len(sg.tensors) == tensors_before and len(model.buffers) == buffers_before
    assert [fb._text(t.name) for t in sg.tensors].count("replacement") == 1
    x = np.array([[1.0, -1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(_run(fb.save(model), x), np.maximum(x + replacement, 0))


def test_metadata_is_added_replaced_and_read_back(add_model):
    model = fb.load(add_model)
    fb.set_metadata(model, "ks.test", b"first")
    fb.set_metadata(model, "ks.test", b"second, longer")
    fb.set_metadata(model, "ks.other", b"")
    fb.compact(model)
    saved = fb.save(model)
    raw = schema.Model.GetRootAs(saved, 0)
    entries = {raw.Metadata(i).Name().decode(): raw.Buffers(raw.Metadata(i).Buffer()).DataAsNumpy()
               for i in range(raw.MetadataLength())}
    assert bytes(entries["ks.test"]) == b"second, longer"
    assert fb.get_metadata(fb.load(saved), "ks.test") == b"second, longer"
    assert fb.get_metadata(fb.load(saved), "ks.other") == b""
    assert fb.get_metadata(fb.load(saved), "missing") is None
    np.testing.assert_array_equal(_run(saved, np.zeros((1, 4), np.float32)), np.maximum(OFFSET, 0))


def test_custom_operator_codes_are_added_once(add_model):
    model = fb.load(add_model)
    count = len(model.operatorCodes)
    index = fb.opcode_index(model, fb.BuiltinOperator.CUSTOM, "KS_TEST")
    assert fb.opcode_index(model, fb.BuiltinOperator.CUSTOM, "KS_TEST") == index
    assert len(model.operatorCodes) == count + 1
    op, _, _ = _constant_input(model)
    assert fb.opcode_index(model, fb.BuiltinOperator.ADD) == op.opcodeIndex
    op.opcodeIndex = index
    assert fb.op_name(model, op) == "KS_TEST"
    assert [name for name, _ in fb.custom_ops(model)] == ["KS_TEST"]
    # TensorFlow Lite reads the code back and asks for that custom operator by name.
    with pytest.raises(Exception, match="KS_TEST"):
        _run(fb.save(model), np.zeros((1, 4), np.float32))


def test_what_is_not_a_tflite_file_is_refused():
    with pytest.raises(fb.FlatbufferError, match="TFL3"):
        fb.load(b"\x00" * 32)
    with pytest.raises(fb.FlatbufferError, match="cannot parse"):
        fb.load(b"\xff\xff\xff\x7fTFL3" + b"\xff" * 8)
