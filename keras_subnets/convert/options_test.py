# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Operator options: what the converter writes against what the C++ operator reads (tflm_ops sources)."""

import re
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers

from keras_subnets.convert import options

TFLM_OPS = Path(__file__).resolve().parents[2] / "tflm_ops"


def _valid() -> dict:
    return ({key: i for i, key in enumerate(options.REQUIRED)} | {"version": options.FORMAT_VERSION, "int8": 1}
            | {"input_offset": -128, "output_offset": 5, "act_min": -128, "act_max": 127})


def _fields(source: str, table: str) -> list[str]:
    body = source[source.index(f"{table}[]"):]
    return re.findall(r'\{"(\w+)", &OpOptions::', body[:body.index("};")])


def test_the_fields_version_and_layouts_are_those_the_kernels_read():
    op = (TFLM_OPS / "tflm" / "ks_op.cc").read_text()
    # Format v5 stores the fields by position: the order is the C reader's.
    assert _fields(op, "kCommonOptions") == list(options.FIELDS)
    assert _fields(op, "kInt8Options") == list(options.INT8_FIELDS)
    assert ("version", *options.FIELDS) == options.REQUIRED
    header = (TFLM_OPS / "include" / "ks_ops.h").read_text()
    assert int(re.search(r"#define KS_FORMAT_VERSION (\d+)", header).group(1)) == options.FORMAT_VERSION
    layouts = dict(re.findall(r"KS_TABLES_(\w+) = (\d+)", header))
    assert {k: int(v) for k, v in layouts.items()} == {"SHARED": options.TABLES_SHARED,
                                                        "PER_LEVEL": options.TABLES_PER_LEVEL,
                                                        "PREFIX": options.TABLES_PREFIX}
    for custom in options.OP_NAMES.values():
        assert f'"{custom}"' in op, custom


def test_encode_decode_round_trip():
    data = options.encode(_valid())
    assert data[:4] == b"KSO" + bytes([options.FORMAT_VERSION])
    # Zigzag varints: 0 -> 0, -1 -> 1, 1 -> 2, -128 -> 255 (two bytes), 127 -> 254 (two bytes).
    assert data[4:6] == bytes([2, 4])  # format 1, levels 2
    assert data[-4:] == bytes([0xFF, 0x01, 0xFE, 0x01])  # act_min -128, act_max 127
    assert options.decode(data) == _valid()
    assert options.decode(bytearray(data)) == _valid()
    float_op = {k: v for k, v in _valid().items() if k not in options.INT8_FIELDS} | {
        "int8": 0, "act_min_f": -3.0e38, "act_max_f": 6.0}
    back = options.decode(options.encode(float_op))
    assert back["act_max_f"] == 6.0 and back["act_min_f"] == float(np.float32(-3.0e38))
    with pytest.raises(ValueError, match="outside int32"):
        options.encode(_valid() | {"rows": 2**31})


def test_what_the_library_cannot_read_is_refused_naming_the_operator():
    stale = dict(_valid(), version=options.FORMAT_VERSION - 1)  # versions 1-4: a flexbuffer map
    with pytest.raises(ValueError, match=f"op 'd1': format version {options.FORMAT_VERSION - 1} is not supported"):
        options.decode(flexbuffers.Dumps(stale), where="op 'd1'")
    with pytest.raises(ValueError, match=f"op 'd1': format version {options.FORMAT_VERSION + 1} is not supported"):
        options.decode(options.pack(_valid(), options.FORMAT_VERSION + 1), where="op 'd1'")
    partial = {k: v for k, v in _valid().items() if k != "dense_top"}
    with pytest.raises(ValueError, match=r"custom options lack \['dense_top'\]"):
        options.encode(partial)
    with pytest.raises(ValueError, match=r"op 'd1': custom options end before 'dense_top'"):
        options.decode(options.pack(partial), where="op 'd1'")
    with pytest.raises(ValueError, match=r"op 'd1': custom options run 1 bytes past their last field"):
        options.decode(options.encode(_valid()) + b"\0", where="op 'd1'")
    with pytest.raises(ValueError, match="op 'd1': custom options are neither a keras-subnets record nor a flexbuffer"):
        options.decode(flexbuffers.Dumps([1, 2]), where="op 'd1'")
    with pytest.raises(ValueError, match="op 'd1': unreadable custom options"):
        options.decode(b"\xff", where="op 'd1'")
