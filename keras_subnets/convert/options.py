# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Custom-operator options: a flexbuffer map, versioned (docs/format.md §12)."""

from __future__ import annotations

from flatbuffers import flexbuffers

FORMAT_VERSION = 4
OP_NAMES = {"fully_connected": "KS_FULLY_CONNECTED", "conv_2d": "KS_CONV_2D",
            "depthwise_conv_2d": "KS_DEPTHWISE_CONV_2D"}
REQUIRED = ("version", "format", "levels", "rows", "cols", "in_channels", "depth_multiplier", "kernel_h",
            "kernel_w", "stride_h", "stride_w", "dilation_h", "dilation_w", "padding", "int8", "tables",
            "dense_top")
# Layout of the per-channel tables (option "tables", docs/format.md §5): ks_table_layout in ks_ops.h.
TABLES_SHARED, TABLES_PER_LEVEL, TABLES_PREFIX = 0, 1, 2
# Input of the densest level's weights in TFLite's layout when option "dense_top" is 1 (format v3, §12).
DENSE_INPUT = 8


def encode(options: dict) -> bytes:
    missing = [k for k in REQUIRED if k not in options]
    if missing:
        raise ValueError(f"custom options lack {missing}")
    return bytes(flexbuffers.Dumps(options))


def decode(data, where: str = "operator") -> dict:
    """Parses and checks the version of a KS_* operator's options."""
    try:
        options = flexbuffers.Loads(bytes(bytearray(data)))
    except Exception as err:
        raise ValueError(f"{where}: unreadable custom options ({err})") from None
    if not isinstance(options, dict):
        raise ValueError(f"{where}: custom options are not a map")
    version = options.get("version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{where}: format version {version!r} is not supported (this library reads "
                         f"version {FORMAT_VERSION}); reconvert the model with keras_subnets.convert")
    missing = [k for k in REQUIRED if k not in options]
    if missing:
        raise ValueError(f"{where}: custom options lack {missing}")
    return options
