# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""KS_* operators in the tflite-micro wheel (host adapter) against the densified reference."""

import os
import shutil
import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest
from flatbuffers import flexbuffers
from tflite_micro.python.tflite_micro import runtime

import keras_subnets as ks
from keras_subnets import tflm
from keras_subnets.convert import convert, densify, formats, options
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.demo import load_scaled
from keras_subnets.testing import vary_batch_norm_per_level

LEVELS = [0.8, 0.5, 0.0]
KINDS = ["unstructured", "row", "block", "structured"]


def tiny_cnn() -> keras.Model:
    """Every operator path the converter emits: strided SAME and VALID 3x3 convs
    (scratch-buffer path), 1x1 conv, depthwise with multiplier 2, Dense logits
    (no softmax, so float differences stay visible), and BatchNorms with some
    negative scales (negative int8 multipliers)."""
    layers = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)
    x = layers.BatchNormalization(name="dw_bn")(x)
    x = layers.ReLU(6.0, name="dw_relu")(x)
    x = layers.Conv2D(16, 1, name="pw")(x)
    x = layers.BatchNormalization(name="pw_bn")(x)
    x = layers.ReLU(name="pw_relu")(x)
    x = layers.Conv2D(16, 3, strides=2, padding="valid", name="conv")(x)
    x = layers.BatchNormalization(name="conv_bn")(x)
    x = layers.ReLU(name="conv_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(10, name="logits")(x)
    model = keras.Model(inputs, outputs, name="tiny_cnn")
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(-1.5, 1.5, c), rng.normal(0, 0.3, c), rng.normal(0, 0.2, c),
                               rng.uniform(0.2, 2.0, c)])
    return model


@pytest.fixture(scope="module")
def images():
    (x_train, _), (x_test, _) = load_scaled(train_samples=100, test_samples=3)
    return x_train, x_test


@pytest.fixture(scope="module")
def files(images):
    """{(kind, quantize): converted file} for a random-init tiny CNN (real images for calibration)."""
    x_train, _ = images
    keras.utils.set_random_seed(0)
    base = tiny_cnn()
    out = {}
    for kind in KINDS:
        model = ks.nest(base, LEVELS, kind=kind)
        # Per-level statistics as after training: the BatchNorm layers' tables differ per level
        # ([L, rows]); the Dense logits have no BatchNorm, so theirs are stored once ([rows]).
        assert vary_batch_norm_per_level(model) == 4
        for quantize in ("float32", "int8"):
            out[kind, quantize] = convert(model, x_train, quantize=quantize, progress=False)
    return out


def quantized(interp, x: np.ndarray) -> np.ndarray:
    details = interp.get_input_details(0)
    if details["dtype"] != np.int8:
        return x
    q = details["quantization_parameters"]
    return np.clip(np.round(x / q["scales"][0] + q["zero_points"][0]), -128, 127).astype(np.int8)


def run_raw(interp, x: np.ndarray, level: int | None = None) -> np.ndarray:
    """Raw outputs (int8 stays int8) of every sample."""
    outputs = []
    for sample in quantized(interp, x):
        interp.set_input(sample[None], 0)
        if level is not None:
            interp.set_input(np.array([level], np.int32), 1)
        interp.invoke()
        outputs.append(np.array(interp.get_output(0)[0]))
    return np.stack(outputs)


def edited(blob: bytes, edit) -> bytes:
    """Applies ``edit(model, subgraph, ops)`` with ops = {custom code: [operators]} and re-serialises."""
    model = fb.load(blob)
    sg = model.subgraphs[0]
    ops = {}
    for op in sg.operators:
        ops.setdefault(fb.op_name(model, op), []).append(op)
    edit(model, sg, ops)
    return fb.save(model)


def with_options(op, **changes) -> None:
    """Rewrites an operator's options; a key set to None ends the record before that field."""
    opts = options.read(op.customOptions)
    for key, value in changes.items():
        if value is None:
            opts.pop(key)
        else:
            opts[key] = value
    version = opts.pop("version")
    # Versions 1-4 wrote a flexbuffer map.
    data = bytes(flexbuffers.Dumps({**opts, "version": version})) if version < 5 else options.pack(opts, version)
    op.customOptions = np.frombuffer(data, np.uint8)


@pytest.mark.parametrize("kind", KINDS)
def test_every_level_matches_the_densified_reference(kind, files, images):
    _, x = images
    for quantize in ("float32", "int8"):
        blob = files[kind, quantize]
        got = tflm.run_levels(blob, x)
        assert sorted(got) == list(range(len(LEVELS)))
        for level, out in got.items():
            ref = run_raw(runtime.Interpreter.from_bytes(densify(blob, level)), x)
            if quantize == "int8":
                assert out.dtype == np.int8
                np.testing.assert_array_equal(out, ref, err_msg=f"{kind} int8 level {level}")
            else:
                scale = max(1.0, float(np.abs(ref).max()))
                assert np.abs(out - ref).max() <= 1e-5 * scale, f"{kind} float32 level {level}"
        # Levels differ, so the kernel really switches on the subnet input.
        assert not np.array_equal(got[0], got[len(LEVELS) - 1])


def test_one_interpreter_switches_levels_and_survives_a_bad_level(files, images):
    _, x = images
    blob = files["unstructured", "int8"]
    interp = tflm.make_interpreter(blob)
    assert isinstance(interp, runtime.Interpreter)
    first = run_raw(interp, x[:1], level=0)
    for bad in (len(LEVELS), -1):
        with pytest.raises(RuntimeError, match=rf"KS_\w+: level {bad} is out of range.*\[0, {len(LEVELS)}\)"):
            run_raw(interp, x[:1], level=bad)
    np.testing.assert_array_equal(run_raw(interp, x[:1], level=0), first)


def test_run_levels_dequantizes(files, images):
    _, x = images
    blob = files["row", "int8"]
    raw = tflm.run_levels(blob, x[:1], levels=[1])
    real = tflm.run_levels(blob, x[:1], levels=[1], dequantize=True)
    q = tflm.make_interpreter(blob).get_output_details(0)["quantization_parameters"]
    np.testing.assert_allclose(real[1], (raw[1].astype(np.float32) - q["zero_points"][0]) * q["scales"][0])


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("version 1 (an older file)", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], version=1),
         r"KS_CONV_2D: unsupported custom options version 1 \(this kernel reads version 5\); "
         r"reconvert with keras_subnets.convert"),
        ("version 3 (values beside D)", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], version=3),
         r"KS_CONV_2D: unsupported custom options version 3 \(this kernel reads version 5\); "
         r"reconvert with keras_subnets.convert"),
        ("version 4 (flexbuffer options)", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], version=4),
         r"KS_CONV_2D: unsupported custom options version 4 \(this kernel reads version 5\); "
         r"reconvert with keras_subnets.convert"),
        ("version 6", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], version=6),
         r"KS_CONV_2D: unsupported custom options version 6 \(this kernel reads version 5\)"),
        ("missing key", lambda m, sg, ops: with_options(ops["KS_FULLY_CONNECTED"][0], rows=None),
         r"KS_FULLY_CONNECTED: custom options end or overflow int32 at 'rows'"),
        ("trailing bytes", lambda m, sg, ops: setattr(ops["KS_FULLY_CONNECTED"][0], "customOptions", np.frombuffer(
            bytes(bytearray(ops["KS_FULLY_CONNECTED"][0].customOptions)) + b"\x00", np.uint8)),
         r"KS_FULLY_CONNECTED: custom options run past their last field"),
        ("a varint past int32", lambda m, sg, ops: setattr(ops["KS_FULLY_CONNECTED"][0], "customOptions",
                                                           np.frombuffer(b"KSO\x05\xff\xff\xff\xff\x1f", np.uint8)),
         r"KS_FULLY_CONNECTED: custom options end or overflow int32 at 'format'"),
        ("garbage options", lambda m, sg, ops: setattr(ops["KS_DEPTHWISE_CONV_2D"][0], "customOptions",
                                                       np.frombuffer(b"\x07\xff\x00", np.uint8)),
         r"KS_DEPTHWISE_CONV_2D: custom options are missing or neither a keras-subnets record nor a flexbuffer map"),
        ("wrong rows", lambda m, sg, ops: with_options(ops["KS_FULLY_CONNECTED"][0], rows=11),
         r"KS_FULLY_CONNECTED: dense weights \(input 8\) of level 2 must be \[11, 16\] \[rows, cols\], "
         r"got \[10, 16\]"),
        ("wrong rows, sparse top level", lambda m, sg, ops: with_options(ops["KS_FULLY_CONNECTED"][0], rows=11,
                                                                           dense_top=0),
         r"KS_FULLY_CONNECTED: dense weights \(input 8\) of levels 0..2 must be \[11, 16\] \[rows, cols\], "
         r"got \[10, 16\]"),
        ("dense_top out of range", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], dense_top=2),
         r"KS_CONV_2D: option 'dense_top' = 2 is outside \[0, 1\]"),
        ("dense_top missing", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], dense_top=None),
         r"KS_CONV_2D: custom options end or overflow int32 at 'dense_top'"),
        ("unknown table layout", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], tables=3),
         r"KS_CONV_2D: option 'tables' = 3 is outside \[0, 2\]"),
        ("prefix tables on a sparse format", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], tables=2),
         r"KS_CONV_2D: option 'tables' = 2 \(prefix\) needs the structured format"),
        ("per-level layout for shared tables", lambda m, sg, ops: with_options(ops["KS_FULLY_CONNECTED"][0], tables=1),
         r"KS_FULLY_CONNECTED: tables \(layout 1\) must have 30 entries, input 5 holds 10"),
        ("bad padding", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], padding=1),
         r"KS_CONV_2D: output shape must be"),
        ("dilation wider than the input", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][0], dilation_h=14),
         r"KS_CONV_2D: dilation 14x1 spreads the 3x3 filter wider than the 28x28 input"),
        ("dilation on a one-tap axis", lambda m, sg, ops: with_options(ops["KS_CONV_2D"][1], dilation_w=254),
         r"KS_CONV_2D: dilation 1x254 on a 1x1 filter: an axis with one tap must have dilation 1"),
    ],
)
def test_bad_options_are_refused_at_allocation(name, edit, message, files):
    blob = edited(files["unstructured", "int8"], edit)
    with pytest.raises(RuntimeError, match=message):
        tflm.make_interpreter(blob)


def truncate_level_table(model, sg, ops):
    op = ops["KS_FULLY_CONNECTED"][0]
    tensor = sg.tensors[op.inputs[4]]
    table = fb.tensor_data(model, tensor)
    shorter = np.ascontiguousarray(table[:-1])
    tensor.shape = np.asarray(shorter.shape, np.int32)
    model.buffers[tensor.buffer].data = np.frombuffer(shorter.tobytes(), np.uint8)


def corrupt_pointers(model, sg, ops):
    op = ops["KS_CONV_2D"][0]
    tensor = sg.tensors[op.inputs[4]]
    table = fb.tensor_data(model, tensor).copy()
    table[len(table) // 2] = np.iinfo(table.dtype).max  # a pointer far past the values
    model.buffers[tensor.buffer].data = np.frombuffer(table.tobytes(), np.uint8)


def wrong_index_type(model, sg, ops):
    tensor = sg.tensors[ops["KS_CONV_2D"][0].inputs[3]]
    tensor.type = fb.TensorType.INT8


def test_table_layouts(files):
    """Shifts are int8, pointers uint16 below 65536 entries; tables [rows] when shared (the logits:
    no BatchNorm), else [L, rows], or for structured layers only each level's active rows (prefix)."""
    L = len(LEVELS)
    for (kind, quantize), blob in files.items():
        model = fb.load(blob)
        sg = model.subgraphs[0]
        for name, op in fb.custom_ops(model):
            opts = options.decode(op.customOptions)
            assert opts["version"] == 5
            rows = opts["rows"]
            # Format v5: the tables back to back in input 5 (uint8), inputs 6 and 7 absent.
            absent = op.inputs[6:8] if quantize == "int8" else op.inputs[6:7]
            assert [int(i) for i in absent] == [-1] * len(absent) and len(absent) == (2 if quantize == "int8" else 1)
            stored = fb.tensor_data(model, sg.tensors[op.inputs[5]])
            assert stored.dtype == np.uint8
            tables = formats.split_tables(stored, quantize == "int8")
            level_table = fb.tensor_data(model, sg.tensors[op.inputs[4]])
            if name == "KS_FULLY_CONNECTED":
                layout, expected_shape = 0, (rows,)
            elif kind == "structured":
                layout, expected_shape = 2, (int(level_table[:L].sum()),)
                assert expected_shape[0] < L * rows  # some level leaves rows inactive: not stored
            else:
                layout, expected_shape = 1, (L * rows,)
            assert opts["tables"] == layout, (kind, quantize, name)
            assert [t.shape for t in tables] == [expected_shape] * len(tables), (kind, quantize, name)
            assert stored.size == expected_shape[0] * (9 if quantize == "int8" else 8)
            if quantize == "int8":
                assert [t.dtype for t in tables] == [np.int32, np.int32, np.int8]
            if kind in ("unstructured", "block"):
                assert fb.tensor_data(model, sg.tensors[op.inputs[4]]).dtype == np.uint16


def retype_tensor(index: int, op_name: str, dtype):
    """An edit storing input ``index`` of the first ``op_name`` operator with another element type."""
    def edit(model, sg, ops):
        tensor = sg.tensors[ops[op_name][0].inputs[index]]
        data = fb.tensor_data(model, tensor).astype(dtype)
        tensor.type = fb.TENSOR_TYPES[np.dtype(dtype)]
        model.buffers[tensor.buffer].data = np.frombuffer(data.tobytes(), np.uint8)
    return edit


def edit_tables(model, sg, op, change) -> None:
    """Rewrites an int8 operator's input 5 (bias, multiplier, shift back to back) as ``change(tables)``
    returns them; arrays of different lengths make a tensor of no whole entries."""
    tensor = sg.tensors[op.inputs[5]]
    tables = change([t.copy() for t in formats.split_tables(fb.tensor_data(model, tensor), True)])
    data = np.frombuffer(b"".join(np.ascontiguousarray(t).tobytes() for t in tables), np.uint8)
    tensor.shape = np.asarray(data.shape, np.int32)
    model.buffers[tensor.buffer].data = data


def share_one_table(model, sg, ops):
    """Stores only the bias of a per-level operator once: mixed layouts."""
    rows = options.decode(ops["KS_CONV_2D"][0].customOptions)["rows"]
    edit_tables(model, sg, ops["KS_CONV_2D"][0], lambda t: [t[0][:rows], t[1], t[2]])


def shift_out_of_range(model, sg, ops):
    def change(tables):
        tables[2][-1] = 31
        return tables
    edit_tables(model, sg, ops["KS_DEPTHWISE_CONV_2D"][0], change)


def tables_in_inputs_6_and_7(model, sg, ops):
    op = ops["KS_CONV_2D"][0]
    op.inputs = np.asarray([*op.inputs[:6], op.inputs[5], *op.inputs[7:]], np.int32)


@pytest.mark.parametrize(
    ("quantize", "edit", "message"),
    [
        ("float32", truncate_level_table,
         r"KS_FULLY_CONNECTED: weights violate docs/format.md \(KS_ERR_FORMAT\).*level table 30"),
        ("float32", corrupt_pointers, r"KS_CONV_2D: weights violate docs/format.md \(KS_ERR_FORMAT\)"),
        ("float32", wrong_index_type, r"KS_CONV_2D: indices \(input 3\) is int8, expected uint8"),
        ("int8", retype_tensor(5, "KS_CONV_2D", np.int32), r"KS_CONV_2D: tables \(input 5\) is int32, expected uint8"),
        ("int8", tables_in_inputs_6_and_7, r"KS_CONV_2D: inputs 6 and 7 must be -1 \(format v5 keeps bias, "
                                           r"multiplier and shift in input 5\)"),
        ("int8", retype_tensor(4, "KS_CONV_2D", np.int32),
         r"KS_CONV_2D: level table \(input 4\) is int32, expected uint16"),
        ("int8", share_one_table, r"KS_CONV_2D: tables \(input 5\) must be 4-byte aligned whole entries of 9 "
                                  r"bytes, got 152 bytes"),
        ("int8", shift_out_of_range, r"KS_DEPTHWISE_CONV_2D: requantization tables are invalid \(KS_ERR_ARG\)"),
    ],
)
def test_bad_tensors_are_refused_at_allocation(quantize, edit, message, files):
    blob = edited(files["unstructured", quantize], edit)
    with pytest.raises(RuntimeError, match=message):
        tflm.make_interpreter(blob)


def test_dense_level_outside_the_cmsis_nn_requantization_rule_is_refused(files):
    """ks_dense.h: with a negative multiplier CMSIS-NN and TFLite agree only while |bias| + 255 sum|w| <
    2^(31 - max(shift, 0)); Prepare refuses a dense level that breaks it (in every build)."""
    def huge_bias(model, sg, ops):
        op = ops["KS_CONV_2D"][0]
        rows = options.decode(op.customOptions)["rows"]

        def change(tables):
            bias, mult = tables[0].reshape(-1, rows), tables[1].reshape(-1, rows)
            channel = int(np.nonzero(mult[-1] < 0)[0][0])
            bias[-1, channel] = 2**31 - 1
            return tables
        edit_tables(model, sg, op, change)

    with pytest.raises(RuntimeError, match=r"KS_CONV_2D: level 2, channel \d+: negative multiplier with "
                                           r"\|bias\| \+ 255 \* sum\|w\| = \d+ >= 2\^\d+"):
        tflm.make_interpreter(edited(files["unstructured", "int8"], huge_bias))


def test_structured_prefix_tables_must_hold_every_active_row(files):
    def drop_last(model, sg, ops):
        edit_tables(model, sg, ops["KS_CONV_2D"][0], lambda t: [a[:-1] for a in t])  # prefix layout

    with pytest.raises(RuntimeError, match=r"KS_CONV_2D: tables \(layout 2\) must have (\d+) entries, input 5 holds"):
        tflm.make_interpreter(edited(files["structured", "int8"], drop_last))


def test_structured_level_table_must_hold_both_widths(files):
    def halve(model, sg, ops):
        tensor = sg.tensors[ops["KS_DEPTHWISE_CONV_2D"][0].inputs[4]]
        table = np.ascontiguousarray(fb.tensor_data(model, tensor)[: len(LEVELS)])
        tensor.shape = np.asarray(table.shape, np.int32)
        model.buffers[tensor.buffer].data = np.frombuffer(table.tobytes(), np.uint8)

    with pytest.raises(RuntimeError, match=r"KS_DEPTHWISE_CONV_2D: level table has 3 entries.*needs 2 \* levels = 6"):
        tflm.make_interpreter(edited(files["structured", "int8"], halve))


def test_symbol_check_names_what_is_missing():
    names = list(tflm.REQUIRED_SYMBOLS)
    tflm.check_symbols(names)
    tflm.check_symbols(lambda name: True)
    with pytest.raises(RuntimeError, match=r"(?s)does not export 1 function.*MicroContextGetEvalTensor") as info:
        tflm.check_symbols([n for n in names if "GetEvalTensor" not in n])
    assert "_ZN6tflite5micro25MicroContextGetEvalTensorEPKNS0_13TfLiteContextEi" in str(info.value)
    with pytest.raises(RuntimeError, match="does not export 5 function"):
        tflm.check_symbols(["_ZN6tflite12MicroContextGetEvalTensorEPKNS_13TfLiteContextEi"])


def test_wheel_version_is_pinned():
    tflm.check_wheel_version(tflm.WHEEL_VERSION)
    assert tflm.wheel_version() == tflm.WHEEL_VERSION
    with pytest.raises(RuntimeError, match=r"tflite-micro 0\.dev20990101 is installed.*0\.dev20261023182759"):
        tflm.check_wheel_version("0.dev20990101")
    with pytest.raises(RuntimeError, match="not installed"):
        tflm.check_wheel_version(None)


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs binutils nm")
def test_adapter_needs_exactly_the_checked_wheel_symbols():
    """The Python-side list and the C++ declarations (ks_wheel_abi.h) agree."""
    lib = tflm.build_adapter()
    undefined = subprocess.run(["nm", "-D", "--undefined-only", str(lib)], capture_output=True, text=True,
                               check=True).stdout.split()
    assert {s for s in undefined if s.startswith("_ZN6tflite")} == set(tflm.REQUIRED_SYMBOLS)
    exported = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True,
                              check=True).stdout.split()
    assert tflm.REGISTERER in exported
    assert not any(s.startswith("ks_") for s in exported), "the core must stay hidden"


def test_build_cache_is_keyed_by_the_sources(tmp_path, monkeypatch):
    """Same sources: the cached build, not rebuilt. One kernel source edited: a new build; the
    edit undone: the first build again, untouched."""
    sources = tmp_path / "tflm_ops"
    shutil.copytree(tflm.TFLM_OPS_DIR, sources, ignore=shutil.ignore_patterns("build", "*.o", "*.a", "*.so"))
    monkeypatch.setattr(tflm, "TFLM_OPS_DIR", sources)
    cache = tmp_path / "cache"
    first = tflm.build_adapter(cache)
    built_at = first.stat().st_mtime_ns
    assert tflm.build_adapter(cache) == first and first.stat().st_mtime_ns == built_at
    assert first.name.startswith("libks_wheel_ops-") and first.stat().st_size > 0
    kernel = sources / "core" / "ks_select_level.c"
    original = kernel.read_text()
    kernel.write_text(original + "\n/* an edit */\n")
    second = tflm.build_adapter(cache)
    assert second != first and second.exists()
    kernel.write_text(original)
    assert tflm.build_adapter(cache) == first and first.stat().st_mtime_ns == built_at


TFLM_ROOT = os.environ.get("TFLM_ROOT")


@pytest.mark.skipif(not TFLM_ROOT, reason="set TFLM_ROOT (and FLATBUFFERS_INCLUDE, GEMMLOWP_ROOT) to compile-check "
                                          "the TFLM glue against real TFLM headers")
def test_tflm_glue_compiles_against_tflm_headers(tmp_path):
    targets = ["check"] + (["check-arm"] if shutil.which("arm-none-eabi-g++") else [])
    make = ["make", "-s", "-C", str(Path(tflm.TFLM_OPS_DIR) / "tflm"), *targets, f"TFLM_ROOT={TFLM_ROOT}",
            f"TFLM_CHECK_DIR={tmp_path}"]
    for var in ("FLATBUFFERS_INCLUDE", "GEMMLOWP_ROOT"):
        if os.environ.get(var):
            make.append(f"{var}={os.environ[var]}")
    result = subprocess.run(make, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_damaged_options_never_crash(files):
    """Truncated or bit-flipped options: a clean error (or a still-valid record), never a crash."""
    blob = files["row", "float32"]
    model = fb.load(blob)
    op = next(o for o in model.subgraphs[0].operators if fb.op_name(model, o) == "KS_CONV_2D")
    original = bytes(bytearray(op.customOptions))
    rng = np.random.default_rng(1)
    damaged = [original[:n] for n in range(0, len(original), max(1, len(original) // 12))]
    for _ in range(24):
        flipped = bytearray(original)
        flipped[int(rng.integers(len(flipped)))] ^= 1 << int(rng.integers(8))
        damaged.append(bytes(flipped))
    for options_bytes in damaged:
        def damage(m, sg, ops, options_bytes=options_bytes):
            ops["KS_CONV_2D"][0].customOptions = np.frombuffer(options_bytes, np.uint8)

        try:
            tflm.make_interpreter(edited(blob, damage))
        except RuntimeError as err:
            assert "KS_CONV_2D" in str(err)
