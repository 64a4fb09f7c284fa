# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Custom-operator options: a versioned binary record (docs/format.md §12, §17).

Format v5 writes ``b"KSO"``, the version byte, then every field of `FIELDS`
in that order as a zigzag LEB128 varint (int32 range), then for an int8
operator the int8 fields and for a float32 one the two float32 clamp bounds
(little-endian), and nothing after. Versions 1-4 wrote a flexbuffer map;
`read` still parses one so that such a file is refused by its version.
"""

from __future__ import annotations

import struct

from flatbuffers import flexbuffers

FORMAT_VERSION = 5
MAGIC = b"KSO"
OP_NAMES = {"fully_connected": "KS_FULLY_CONNECTED", "conv_2d": "KS_CONV_2D",
            "depthwise_conv_2d": "KS_DEPTHWISE_CONV_2D"}
# Stored in this order (tflm/ks_op.cc kCommonOptions / kInt8Options read them the same way).
FIELDS = ("format", "levels", "rows", "cols", "in_channels", "depth_multiplier", "kernel_h", "kernel_w",
          "stride_h", "stride_w", "dilation_h", "dilation_w", "padding", "int8", "tables", "dense_top")
INT8_FIELDS = ("input_offset", "output_offset", "act_min", "act_max")
FLOAT_FIELDS = ("act_min_f", "act_max_f")
REQUIRED = ("version", *FIELDS)
# Layout of the per-channel tables (option "tables", docs/format.md §5): ks_table_layout in ks_ops.h.
TABLES_SHARED, TABLES_PER_LEVEL, TABLES_PREFIX = 0, 1, 2
# Input of the densest level's weights in TFLite's layout when option "dense_top" is 1 (format v3, §12).
DENSE_INPUT = 8


def _varint(value: int) -> bytes:
    value = int(value)
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"option value {value} is outside int32")
    z = ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        out.append(byte | (0x80 if z else 0))
        if not z:
            return bytes(out)


def pack(options: dict, version: int = FORMAT_VERSION) -> bytes:
    """The binary record of ``options``, stopping at the first field it lacks (tests write short records)."""
    out = bytearray(MAGIC + bytes([version]))
    fields = FIELDS + (INT8_FIELDS if options.get("int8", 1) else ())
    for key in fields:
        if key not in options:
            return bytes(out)
        out += _varint(options[key])
    if not options.get("int8", 1):
        for key in FLOAT_FIELDS:
            if key not in options:
                return bytes(out)
            out += struct.pack("<f", float(options[key]))
    return bytes(out)


def encode(options: dict) -> bytes:
    missing = [k for k in REQUIRED + (INT8_FIELDS if options.get("int8") else FLOAT_FIELDS) if k not in options]
    if missing:
        raise ValueError(f"custom options lack {missing}")
    if options["version"] != FORMAT_VERSION:
        raise ValueError(f"custom options version {options['version']}: this library writes {FORMAT_VERSION}")
    return pack(options)


def read(data) -> dict:
    """Parses a record of any version without checking it (`decode` checks).

    Raises:
        ValueError: bytes that are neither a version 5 record nor a flexbuffer
            map (versions 1-4), or a record that ends early or runs on.
    """
    data = bytes(bytearray(data if data is not None else b""))
    if data[:3] != MAGIC or len(data) < 4:
        try:
            options = flexbuffers.Loads(data)
        except Exception as err:
            raise ValueError(f"unreadable custom options ({err})") from None
        if not isinstance(options, dict):
            raise ValueError("custom options are neither a keras-subnets record nor a flexbuffer map")
        return options
    options, pos = {"version": data[3]}, 4
    if options["version"] != FORMAT_VERSION:
        return options  # a later record layout: only its version is known
    for key in FIELDS + INT8_FIELDS:
        if key in INT8_FIELDS and not options["int8"]:
            break
        z, shift = 0, 0
        while True:
            if pos >= len(data) or shift > 28:
                raise ValueError(f"custom options end before '{key}'" if pos >= len(data)
                                 else f"custom option '{key}' is not an int32 varint")
            byte = data[pos]
            pos += 1
            z |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        options[key] = (z >> 1) ^ -(z & 1)
    if not options["int8"]:
        for key in FLOAT_FIELDS:
            if pos + 4 > len(data):
                raise ValueError(f"custom options end before '{key}'")
            options[key] = struct.unpack_from("<f", data, pos)[0]
            pos += 4
    if pos != len(data):
        raise ValueError(f"custom options run {len(data) - pos} bytes past their last field")
    return options


def decode(data, where: str = "operator") -> dict:
    """Parses and checks the version of a KS_* operator's options."""
    try:
        options = read(data)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    version = options.get("version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{where}: format version {version!r} is not supported (this library reads "
                         f"version {FORMAT_VERSION}); reconvert the model with keras_subnets.convert")
    missing = [k for k in REQUIRED if k not in options]
    if missing:
        raise ValueError(f"{where}: custom options lack {missing}")
    return options
