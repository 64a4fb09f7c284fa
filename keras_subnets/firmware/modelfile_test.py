# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Operators a file needs and its C export, on converted and plain files (no TFLM tree needed)."""

import re

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert import convert, densify
from keras_subnets.firmware import modelfile


@pytest.fixture(scope="module")
def blob():
    keras.utils.set_random_seed(0)
    model = ks.nest(ks.zoo.quickstart_cnn(), [0.8, 0.0], kind="row")
    calib = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    return convert(model, calib, num_calibration_samples=8, progress=False)


def test_ops_needed_by_tflm_name(blob):
    ops = modelfile.ops_needed(blob)
    assert ops.custom == {"KS_CONV_2D": 3, "KS_DEPTHWISE_CONV_2D": 2, "KS_FULLY_CONNECTED": 1}
    assert ops.builtin == {"AVERAGE_POOL_2D": 1, "RESHAPE": 1, "SOFTMAX": 1}
    assert ops.count == 6
    plain = modelfile.ops_needed(densify(blob, 0))
    assert not plain.custom and {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} <= set(plain.builtin)
    assert [modelfile.resolver_method(n) for n in ("CONV_2D", "MEAN", "LEAKY_RELU", "BATCH_TO_SPACE_ND",
                                                   "L2_NORMALIZATION", "UNIDIRECTIONAL_SEQUENCE_LSTM")] == [
        "AddConv2D", "AddMean", "AddLeakyRelu", "AddBatchToSpaceNd", "AddL2Normalization",
        "AddUnidirectionalSequenceLSTM"]


def test_export_c_round_trips_and_registers_exactly_the_ops(blob):
    source, header = modelfile.export_c(blob, "g_nested", "nested_model.h")
    assert "alignas(16) const unsigned char g_nested[] = {" in source
    assert f"const unsigned int g_nested_len = {len(blob)};" in source
    body = source.split("{", 1)[1].split("};", 1)[0]
    assert bytes(int(v, 16) for v in re.findall(r"0x([0-9a-f]{2})", body)) == blob
    assert '#include "nested_model.h"' in source
    assert "constexpr unsigned int g_nested_op_count = 6;" in header
    registrations = re.findall(r"if \((resolver\.\w+\([^;]*\)) != kTfLiteOk\)", header)
    assert registrations == modelfile.ops_needed(blob).registration_lines()
    assert "resolver.AddReshape()" in registrations and "resolver.AddMean()" not in registrations
    plain_header = modelfile.export_c(densify(blob, 1))[1]
    assert "ks_registrations.h" not in plain_header and "resolver.AddConv2D()" in plain_header
    with pytest.raises(ValueError, match="not a C identifier"):
        modelfile.export_c(blob, "2bad-name")


def test_describe_and_bad_files(blob, tmp_path):
    desc = modelfile.describe(blob)
    assert [la["layer"] for la in desc["layers"]] == ["stem", "dw1", "pw1", "dw2", "pw2", "classifier"]
    assert {la["format"] for la in desc["layers"]} == {"row"}
    assert [t["name"] for t in desc["inputs"]][-1] == "subnet"
    text = modelfile.format_description(desc, "m.tflite")
    assert "tflite::MicroMutableOpResolver<6>" in text and "resolver.AddSoftmax();" in text
    assert "keras-subnets file version" in text and len(desc["levels"]["levels"]) == 2
    assert "a plain TFLite file" in modelfile.format_description(modelfile.describe(densify(blob, 0)))
    with pytest.raises(modelfile.ModelFileError, match="cannot read '.*missing.tflite'"):
        modelfile.read(tmp_path / "missing.tflite")
    (tmp_path / "x.tflite").write_bytes(b"not a model at all")
    with pytest.raises(modelfile.ModelFileError, match="is not a TFLite flatbuffer"):
        modelfile.read(tmp_path / "x.tflite")


def test_converter_writes_the_binary_level_table(blob):
    """The converter's JSON table and its binary twin (what ks_select_level reads) agree."""
    rows = modelfile.read_level_costs(blob)
    table = modelfile.level_table(blob)["levels"]
    assert [r["macs"] for r in rows] == [r["macs"] for r in table]
    assert [r["bytes_read"] for r in rows] == [r["bytes_read"] for r in table]
    assert all(r["accuracy"] is None and r["instructions_m4"] is None for r in rows)
    measured = modelfile.level_table(blob)
    for row, n in zip(measured["levels"], (1000, 2000), strict=True):
        row["instructions_m4"], row["accuracy"] = n, 0.5 + n / 1e4
    rows = modelfile.read_level_costs(modelfile.write_level_table(blob, measured))
    assert [r["instructions_m4"] for r in rows] == [1000, 2000] and [r["accuracy"] for r in rows] == [0.6, 0.7]
    assert modelfile.select_level(rows, "instructions_m4", 1500) == 0


def test_firmware_defines_name_the_formats_and_precision(blob):
    """Bit (format id - 1) per weight format in the file (tflm_ops/include/ks_ops.h), bit OpKind per operator
    (tflm_ops/tflm/ks_op.h), int8 only when every operator is int8; export-c and inspect show them; a plain
    file needs none; an MLP needs only KS_FULLY_CONNECTED."""
    assert modelfile.firmware_defines(blob) == ["-DKS_FORMATS=0x4", "-DKS_OPS=0x7", "-DKS_NO_FLOAT32"]
    header = modelfile.export_c(blob)[1]
    assert "// Build the keras-subnets sources with -DKS_FORMATS=0x4 -DKS_OPS=0x7 -DKS_NO_FLOAT32" in header
    assert "firmware flags (only the kernels this file needs): -DKS_FORMATS=0x4 -DKS_OPS=0x7 -DKS_NO_FLOAT32" in (
        modelfile.format_description(modelfile.describe(blob)))
    assert modelfile.firmware_defines(densify(blob, 1)) == []
    keras.utils.set_random_seed(0)
    model = ks.nest(ks.zoo.quickstart_cnn(), [0.8, 0.0], kind="block")
    calib = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    as_float = convert(model, calib, quantize="float32", progress=False)
    # Float32 blocks have no even-width rule, so every layer stays nested_block.
    assert modelfile.firmware_defines(as_float) == ["-DKS_FORMATS=0x2", "-DKS_OPS=0x7"]
    mlp = keras.Sequential([keras.Input((12,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    nested = ks.nest(mlp, [0.5, 0.0], kind="unstructured")
    flat = np.random.default_rng(1).random((4, 12)).astype(np.float32)
    assert modelfile.firmware_defines(convert(nested, flat, num_calibration_samples=4, progress=False)) == [
        "-DKS_FORMATS=0x1", "-DKS_OPS=0x1", "-DKS_NO_FLOAT32"]
