# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Format v3, option dense_top: the densest level runs the dense kernels from its own tensor.

Oracle: `densify` + the tflite-micro wheel's builtin (reference) kernels,
against the KS_* operators in the same wheel, bit for bit, at every level,
for the quickstart CNN in every mask kind, with dense_top on and off.
"""

import numpy as np
import pytest
from flatbuffers import flexbuffers
from tflite_micro.python.tflite_micro import runtime

import keras_subnets as ks
from keras_subnets import tflm
from keras_subnets.convert import convert, densify, describe_operators, options
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.dense_top import (
    DENSE_TOP_MIN_DENSITY,
    DENSE_TOP_MIN_DENSITY_CONV,
    DENSE_TOP_MIN_DENSITY_POINTWISE,
    choose_dense_top,
    dense_requantization_is_exact,
)
from keras_subnets.convert.densify import decode_rows, dense_rows
from keras_subnets.demo import load_scaled
from keras_subnets.testing import vary_batch_norm_per_level

LEVELS = [0.9, 0.75, 0.5, 0.0]
L = len(LEVELS)
KINDS = ["unstructured", "row", "block", "structured"]


@pytest.fixture(scope="module")
def images():
    (x_train, _), (x_test, _) = load_scaled(train_samples=64, test_samples=3)
    return x_train, x_test


@pytest.fixture(scope="module")
def files(images):
    """{(kind, dense_top): int8 file} of one nested quickstart CNN per kind, levels with their own BatchNorm."""
    x_train, _ = images
    out = {}
    for kind in KINDS:
        model = ks.nest(ks.zoo.quickstart_cnn(), LEVELS, kind=kind)
        vary_batch_norm_per_level(model)
        for dense_top in (None, False):
            out[kind, dense_top] = convert(model, x_train, num_calibration_samples=32, progress=False,
                                           dense_top=dense_top)
    return out


def raw_outputs(interp, x: np.ndarray, level: int | None = None) -> np.ndarray:
    q = interp.get_input_details(0)["quantization_parameters"]
    outputs = []
    for sample in np.clip(np.round(x / q["scales"][0] + q["zero_points"][0]), -128, 127).astype(np.int8):
        interp.set_input(sample[None], 0)
        if level is not None:
            interp.set_input(np.array([level], np.int32), 1)
        interp.invoke()
        outputs.append(np.array(interp.get_output(0)[0]))
    return np.stack(outputs)


def edited(blob: bytes, edit) -> bytes:
    model = fb.load(blob)
    edit(model, model.subgraphs[0], fb.custom_ops(model))
    return fb.save(model)


def first_op(ops, name: str):
    return next(op for n, op in ops if n == name)


@pytest.mark.parametrize("kind", KINDS)
def test_every_level_is_bit_exact_with_dense_top_on_and_off(kind, files, images):
    _, x = images
    on, off = files[kind, None], files[kind, False]
    # The cost model puts every densest level (100 % of the weights) on the dense kernels.
    assert [op["dense_top"] for op in describe_operators(on)] == [1] * 6
    assert [op["dense_top"] for op in describe_operators(off)] == [0] * 6
    results = {}
    for name, blob in (("on", on), ("off", off)):
        interp = tflm.make_interpreter(blob)
        for level in range(L):
            got = raw_outputs(interp, x, level)
            ref = raw_outputs(runtime.Interpreter.from_bytes(densify(blob, level)), x)
            assert got.dtype == np.int8
            np.testing.assert_array_equal(got, ref, err_msg=f"{kind} dense_top {name} level {level}")
            results[name, level] = got
    for level in range(L):
        # The same int8 weights and tables either way: the two files compute the same.
        np.testing.assert_array_equal(results["on", level], results["off", level], err_msg=f"level {level}")
    assert not np.array_equal(results["on", 0], results["on", L - 1])


@pytest.mark.parametrize("kind", KINDS)
def test_dense_tensor_layout_and_sparse_levels(kind, files):
    """Input 8 is TFLite's weight tensor (no quantization parameters); the sparse arrays keep levels 0..L-2
    as indices only (format v4: their values are the dense tensor's); structured stores its values only there."""
    model = fb.load(files[kind, None])
    sg = model.subgraphs[0]
    for name, op in fb.custom_ops(model):
        opts = options.decode(op.customOptions)
        assert opts["version"] == options.FORMAT_VERSION and opts["dense_top"] == 1
        assert len(op.inputs) == options.DENSE_INPUT + 1
        tensor = sg.tensors[op.inputs[options.DENSE_INPUT]]
        dense = fb.tensor_data(model, tensor)
        rows, cols = opts["rows"], opts["cols"]
        kh, kw = opts["kernel_h"], opts["kernel_w"]
        expected = {"KS_FULLY_CONNECTED": (rows, cols), "KS_CONV_2D": (rows, kh, kw, cols // (kh * kw)),
                    "KS_DEPTHWISE_CONV_2D": (1, kh, kw, rows)}[name]
        assert dense.dtype == np.int8 and dense.shape == expected, name
        assert fb.quant_params(tensor) is None  # the multiplier tables are its requantization
        top = dense_rows(name, opts, dense)
        assert np.abs(top).max(axis=1).min() == 127  # per-row symmetric int8, every row at full scale
        table = fb.tensor_data(model, sg.tensors[op.inputs[4]])
        assert op.inputs[2] == -1  # no values beside D
        if kind == "structured":
            continue
        indices = fb.tensor_data(model, sg.tensors[op.inputs[3]])
        if kind in ("unstructured", "block"):
            assert table.size == rows * (L - 1) + 1  # pointers of the sparse levels only
        else:
            assert table.size == L - 1
        sparse, first = decode_rows(name, {**opts, "dense_top": 0, "levels": L - 1}, None, indices, table, dense)
        stored = first < L - 1
        np.testing.assert_array_equal(sparse[stored], top[stored], err_msg=name)
        assert stored.mean() < 0.6  # the densest level's extra weights are not in the sparse arrays


@pytest.mark.parametrize("kind", ["unstructured", "row", "block"])
def test_sparse_levels_read_the_dense_tensor(kind, files, images):
    """Format v4: every level's values are the dense tensor's, so zeroing it changes every level."""
    _, x = images
    blob = files[kind, None]

    def zero_dense(model, sg, ops):
        for _, op in ops:
            tensor = sg.tensors[op.inputs[options.DENSE_INPUT]]
            model.buffers[tensor.buffer].data = np.zeros(len(model.buffers[tensor.buffer].data), np.uint8)

    before = tflm.run_levels(blob, x)
    after = tflm.run_levels(edited(blob, zero_dense), x)
    for level in range(L):
        assert not np.array_equal(after[level], before[level]), f"level {level}"


def test_cost_model_thresholds():
    conv3 = {"kernel_h": 3, "kernel_w": 3, "stride_h": 1, "stride_w": 1}
    pw = {"kernel_h": 1, "kernel_w": 1, "stride_h": 1, "stride_w": 1}
    pw2 = {**pw, "stride_h": 2, "stride_w": 2}
    fc = {"kernel_h": 1, "kernel_w": 1, "stride_h": 1, "stride_w": 1}
    below, at = DENSE_TOP_MIN_DENSITY - 0.01, DENSE_TOP_MIN_DENSITY
    conv_below, conv_at = DENSE_TOP_MIN_DENSITY_CONV - 0.01, DENSE_TOP_MIN_DENSITY_CONV
    for fmt in ("nested_csr", "nested_block", "row"):
        assert not choose_dense_top(fmt, "fully_connected", fc, True, 3, density=below)
        assert choose_dense_top(fmt, "fully_connected", fc, True, 3, density=at)
        assert not choose_dense_top(fmt, "conv_2d", conv3, True, 3, density=conv_below)
        assert choose_dense_top(fmt, "conv_2d", conv3, True, 3, density=conv_at)
        assert not choose_dense_top(fmt, "depthwise_conv_2d", conv3, True, 3, density=conv_below)
        assert choose_dense_top(fmt, "depthwise_conv_2d", conv3, True, 3, density=conv_at)
        assert not choose_dense_top(fmt, "conv_2d", pw, True, 3, density=DENSE_TOP_MIN_DENSITY_POINTWISE - 0.01)
        assert choose_dense_top(fmt, "conv_2d", pw, True, 3, density=DENSE_TOP_MIN_DENSITY_POINTWISE)
        assert not choose_dense_top(fmt, "conv_2d", pw2, True, 3, density=conv_below)  # strided 1x1: conv rule
        assert choose_dense_top(fmt, "conv_2d", pw2, True, 3, density=conv_at)
        assert not choose_dense_top(fmt, "conv_2d", conv3, False, 3, density=1.0)  # float32
        assert not choose_dense_top(fmt, "conv_2d", conv3, True, 1, density=1.0)  # no sparse level left
    assert choose_dense_top("structured", "conv_2d", conv3, True, 3, full_width=True)
    assert not choose_dense_top("structured", "conv_2d", conv3, True, 3, full_width=False)
    assert not choose_dense_top("structured", "conv_2d", conv3, False, 3, full_width=True)


def test_cmsis_nn_requantization_rule():
    """ks_dense.h: a negative multiplier needs |bias| + 255 * sum|w| < 2^(31 - max(shift, 0))."""
    w = np.full((2, 4), 127, np.int8)  # 255 * sum|w| = 129,540
    limit = 2**31 - 255 * 4 * 127
    assert dense_requantization_is_exact(w, np.array([limit - 1, 2**31 - 1]), np.array([-5, 5]), np.array([0, 0]))
    assert not dense_requantization_is_exact(w, np.array([limit, 0]), np.array([-5, 5]), np.array([0, 0]))
    assert not dense_requantization_is_exact(w, np.array([-limit, 0]), np.array([-5, 5]), np.array([0, 0]))
    # A left shift shrinks the bound: 2^(31 - 3).
    assert dense_requantization_is_exact(w, np.array([2**28 - 129_541, 0]), np.array([-5, 5]), np.array([3, 0]))
    assert not dense_requantization_is_exact(w, np.array([2**28 - 129_540, 0]), np.array([-5, 5]), np.array([3, 0]))


def test_float32_files_keep_the_sparse_top_level(images):
    x_train, _ = images
    model = ks.nest(ks.zoo.quickstart_cnn(), [0.5, 0.0], kind="unstructured")
    blob = convert(model, quantize="float32", progress=False, dense_top=True)
    assert [op["dense_top"] for op in describe_operators(blob)] == [0] * 6
    parsed = fb.load(blob)
    assert all(len(op.inputs) == 7 for _, op in fb.custom_ops(parsed))


@pytest.mark.parametrize("old", [2, 3, 4])
def test_older_version_file_is_refused_by_name(files, old):
    def make_old(model, sg, ops):
        # Versions 1-4 wrote the options as a flexbuffer map.
        op = first_op(ops, "KS_CONV_2D")
        opts = options.read(op.customOptions)
        opts["version"] = old
        op.customOptions = np.frombuffer(bytes(flexbuffers.Dumps(opts)), np.uint8)

    blob = edited(files["unstructured", None], make_old)
    with pytest.raises(RuntimeError, match=rf"KS_CONV_2D: unsupported custom options version {old} "
                                           r"\(this kernel reads version 5\); reconvert with keras_subnets.convert"):
        tflm.make_interpreter(blob)
    with pytest.raises(ValueError, match=rf"KS_CONV_2D: format version {old} is not supported \(this library "
                                         r"reads version 5\); reconvert"):
        densify(blob, 0)


def reshape_dense(name: str, shape):
    def edit(model, sg, ops):
        tensor = sg.tensors[first_op(ops, name).inputs[options.DENSE_INPUT]]
        tensor.shape = np.asarray(shape, np.int32)
    return edit


def retype_dense(name: str):
    def edit(model, sg, ops):
        tensor = sg.tensors[first_op(ops, name).inputs[options.DENSE_INPUT]]
        data = fb.tensor_data(model, tensor).astype(np.int32)
        tensor.type = fb.TensorType.INT32
        model.buffers[tensor.buffer].data = np.frombuffer(data.tobytes(), np.uint8)
    return edit


def truncate_dense(name: str):
    def edit(model, sg, ops):
        tensor = sg.tensors[first_op(ops, name).inputs[options.DENSE_INPUT]]
        data = np.ascontiguousarray(fb.tensor_data(model, tensor).reshape(-1)[:-1])
        tensor.shape = np.asarray(data.shape, np.int32)
        model.buffers[tensor.buffer].data = np.frombuffer(data.tobytes(), np.uint8)
    return edit


def drop_dense(name: str):
    def edit(model, sg, ops):
        op = first_op(ops, name)
        op.inputs = np.asarray(op.inputs[: options.DENSE_INPUT], np.int32)
    return edit


def give_values_back(model, sg, ops):
    op = first_op(ops, "KS_CONV_2D")
    inputs = np.array(op.inputs)
    inputs[2] = inputs[options.DENSE_INPUT]
    op.inputs = inputs


@pytest.mark.parametrize(
    ("kind", "edit", "message"),
    [
        ("unstructured", reshape_dense("KS_CONV_2D", [32, 9]),
         r"KS_CONV_2D: dense weights \(input 8\) of level 3 must be \[32, 3, 3, 1\] .*got \[32, 9\]"),
        ("row", reshape_dense("KS_DEPTHWISE_CONV_2D", [32, 3, 3, 1]),
         r"KS_DEPTHWISE_CONV_2D: dense weights \(input 8\) of level 3 must be \[1, 3, 3, 32\]"),
        ("block", retype_dense("KS_FULLY_CONNECTED"),
         r"KS_FULLY_CONNECTED: dense weights \(input 8\) is int32, expected int8"),
        ("structured", truncate_dense("KS_CONV_2D"),
         r"KS_CONV_2D: dense weights \(input 8\) of level 3 must be \[32, 3, 3, 1\]"),
        ("unstructured", drop_dense("KS_FULLY_CONNECTED"), r"KS_FULLY_CONNECTED: expects 9 inputs and 1 output, got 8"),
        ("structured", give_values_back, r"KS_CONV_2D: structured with dense_top reads its values from input 8"),
    ],
)
def test_corrupted_dense_tensor_is_refused_at_allocation(kind, edit, message, files):
    with pytest.raises(RuntimeError, match=message):
        tflm.make_interpreter(edited(files[kind, None], edit))
