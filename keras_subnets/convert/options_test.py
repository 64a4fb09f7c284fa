# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Operator options: what the converter writes against what the C++ operator reads (tflm_ops sources)."""

import re
from pathlib import Path

import pytest
from flatbuffers import flexbuffers

from keras_subnets.convert import options

TFLM_OPS = Path(__file__).resolve().parents[2] / "tflm_ops"


def _valid() -> dict:
    return {key: i for i, key in enumerate(options.REQUIRED)} | {"version": options.FORMAT_VERSION, "act_min": -128}


def test_the_keys_version_and_layouts_are_those_the_kernels_read():
    op = (TFLM_OPS / "tflm" / "ks_op.cc").read_text()
    common = op[op.index("kCommonOptions[]"):]
    common = common[:common.index("};")]
    assert set(re.findall(r'\{"(\w+)", &OpOptions::', common)) | {"version"} == set(options.REQUIRED)
    header = (TFLM_OPS / "include" / "ks_ops.h").read_text()
    assert int(re.search(r"#define KS_FORMAT_VERSION (\d+)", header).group(1)) == options.FORMAT_VERSION
    layouts = dict(re.findall(r"KS_TABLES_(\w+) = (\d+)", header))
    assert {k: int(v) for k, v in layouts.items()} == {"SHARED": options.TABLES_SHARED,
                                                        "PER_LEVEL": options.TABLES_PER_LEVEL,
                                                        "PREFIX": options.TABLES_PREFIX}
    for custom in options.OP_NAMES.values():
        assert f'"{custom}"' in op, custom


def test_encode_decode_round_trip_through_flexbuffers():
    data = options.encode(_valid())
    assert flexbuffers.GetRoot(data).AsMap["version"].AsInt == options.FORMAT_VERSION  # the typed reader
    assert options.decode(data) == _valid()
    assert options.decode(bytearray(data)) == _valid()


def test_what_the_library_cannot_read_is_refused_naming_the_operator():
    stale = dict(_valid(), version=options.FORMAT_VERSION - 1)
    with pytest.raises(ValueError, match=f"op 'd1': format version {options.FORMAT_VERSION - 1} is not supported"):
        options.decode(flexbuffers.Dumps(stale), where="op 'd1'")
    partial = {k: v for k, v in _valid().items() if k != "dense_top"}
    with pytest.raises(ValueError, match=r"op 'd1': custom options lack \['dense_top'\]"):
        options.decode(flexbuffers.Dumps(partial), where="op 'd1'")
    with pytest.raises(ValueError, match=r"custom options lack \['dense_top'\]"):
        options.encode(partial)
    with pytest.raises(ValueError, match="op 'd1': custom options are not a map"):
        options.decode(flexbuffers.Dumps([1, 2]), where="op 'd1'")
    with pytest.raises(ValueError, match="op 'd1': unreadable custom options"):
        options.decode(b"\xff", where="op 'd1'")
