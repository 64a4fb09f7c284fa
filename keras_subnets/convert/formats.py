# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The byte format of docs/format.md: one layer's nested levels in its weight format, the stored
layout of its per-level tables (`pack_tables`) and the bytes a level reads (`bytes_read`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from keras_subnets.convert import options

FORMAT_IDS = {"nested_csr": 1, "nested_block": 2, "row": 3, "structured": 4}
FORMAT_NAMES = {v: k for k, v in FORMAT_IDS.items()}
KIND_TO_FORMAT = {"unstructured": "nested_csr", "block": "nested_block", "row": "row",
                  "structured": "structured"}


def index_dtype(space: int) -> np.dtype:
    """uint8 when at most 256 distinct indices, else uint16 (docs/format.md §3)."""
    if space <= 256:
        return np.dtype(np.uint8)
    if space <= 65536:
        return np.dtype(np.uint16)
    raise ValueError(f"index space {space} exceeds the 65536 of the nested formats")


def pointer_dtype(num_entries: int) -> np.dtype:
    """uint16 level pointers when the entry count fits, else int32 (docs/format.md §3, version 2)."""
    return np.dtype(np.uint16) if num_entries <= 65535 else np.dtype(np.int32)


@dataclass
class Nested:
    """The arrays of one nested weight matrix (docs/format.md)."""

    format: str
    num_levels: int
    rows: int
    cols: int
    values: np.ndarray
    indices: np.ndarray | None = None
    level_table: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    in_channels: int = 0
    depth_multiplier: int = 0
    # The layer's int8 weights in TFLite's layout (input 8). Format v4: an int8 sparse format always
    # stores them and its arrays hold only column / block indices (values is None), nested prefixes
    # into D's rows; a structured matrix stores them when dense_top (values is None then too).
    dense: np.ndarray | None = None
    # Option dense_top (format v3): level L-1 runs the dense kernels on ``dense``, so a sparse
    # format's index arrays hold only levels 0..L-2.
    dense_top: bool = False

    @property
    def sparse_levels(self) -> int:
        """Levels stored in the sparse arrays (the densest runs from ``dense`` when dense_top)."""
        if self.dense_top and self.format != "structured":
            return self.num_levels - 1
        return self.num_levels

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.values, self.indices, self.level_table, self.dense) if a is not None)


def to_tflite_layout(kind: str, matrix: np.ndarray, kernel_h: int = 1, kernel_w: int = 1) -> np.ndarray:
    """Canonical rows ``[rows, R]`` (docs/format.md §2) as TFLite's weight tensor.

    ``kind`` is ``fully_connected`` (``[rows, R]``), ``conv_2d`` (OHWI) or
    ``depthwise_conv_2d`` (``[1, kh, kw, rows]``, the transpose).
    """
    if kind == "fully_connected":
        return np.ascontiguousarray(matrix)
    if kind == "conv_2d":
        return np.ascontiguousarray(matrix.reshape(matrix.shape[0], kernel_h, kernel_w, -1))
    if kind == "depthwise_conv_2d":
        return np.ascontiguousarray(matrix.T.reshape(1, kernel_h, kernel_w, matrix.shape[0]))
    raise ValueError(f"unknown operator kind {kind!r}")


def from_tflite_layout(kind: str, tensor: np.ndarray, rows: int) -> np.ndarray:
    """The inverse of `to_tflite_layout`: canonical rows ``[rows, R]``."""
    if kind == "depthwise_conv_2d":
        return np.ascontiguousarray(np.asarray(tensor).reshape(-1, rows).T)
    return np.ascontiguousarray(np.asarray(tensor).reshape(rows, -1))


def _sorted_entries(levels: np.ndarray, num_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the kept positions ordered by (level, position): row ids and positions."""
    rows, cols = levels.shape
    keep = levels < num_levels
    # One lexsort over (row, level, column) gives every row's nested order.
    r, c = np.nonzero(keep)
    order = np.lexsort((c, levels[r, c], r))
    return r[order], c[order]


def _pointers(levels: np.ndarray, num_levels: int) -> np.ndarray:
    rows = levels.shape[0]
    counts = np.stack([(levels == k).sum(axis=1) for k in range(num_levels)], axis=1)  # [rows, L]
    ptr = np.zeros(rows * num_levels + 1, np.int64)
    ptr[1:] = np.cumsum(counts.reshape(-1))
    if ptr[-1] > np.iinfo(np.int32).max:
        raise ValueError("too many non-zeros for int32 pointers")
    return ptr.astype(pointer_dtype(int(ptr[-1])))


def encode_nested_csr(values: np.ndarray, levels: np.ndarray, num_levels: int) -> Nested:
    """Unstructured: each row's non-zeros by level, then column; per-level end pointers."""
    r, c = _sorted_entries(levels, num_levels)
    return Nested("nested_csr", num_levels, *values.shape, values=np.ascontiguousarray(values[r, c]),
                  indices=c.astype(index_dtype(values.shape[1])), level_table=_pointers(levels, num_levels))


def encode_nested_block(values: np.ndarray, levels: np.ndarray, num_levels: int) -> Nested:
    """1x2 blocks: ``levels`` must agree on both columns of every block."""
    rows, cols = values.shape
    nblocks = (cols + 1) // 2
    padded = np.zeros((rows, 2 * nblocks), values.dtype)
    padded[:, :cols] = values
    block_levels = levels[:, 0::2]
    if cols > 1 and not np.array_equal(levels[:, 1::2], block_levels[:, : cols // 2]):
        raise ValueError("block format needs both columns of every 1x2 block in the same level")
    r, b = _sorted_entries(block_levels, num_levels)
    pairs = np.stack([padded[r, 2 * b], padded[r, 2 * b + 1]], axis=1).reshape(-1)
    return Nested("nested_block", num_levels, rows, cols, values=np.ascontiguousarray(pairs),
                  indices=b.astype(index_dtype(nblocks)), level_table=_pointers(block_levels, num_levels))


def encode_row(values: np.ndarray, levels: np.ndarray, num_levels: int) -> Nested:
    """DRESS rows: the same count per row at every level; no pointers."""
    rows, cols = values.shape
    counts = np.stack([(levels <= k).sum(axis=1) for k in range(num_levels)], axis=1)
    if not np.all(counts == counts[:1]):
        bad = int(np.nonzero(np.any(counts != counts[:1], axis=1))[0][0])
        raise ValueError(f"row format needs the same count in every row; row {bad} has {list(counts[bad])}, "
                         f"row 0 has {list(counts[0])}")
    r, c = _sorted_entries(levels, num_levels)
    per_row = int(counts[0, -1]) if rows else 0
    return Nested("row", num_levels, rows, cols, values=np.ascontiguousarray(values[r, c]),
                  indices=c.astype(index_dtype(cols)).reshape(rows * per_row),
                  level_table=counts[0].astype(np.int32))


def encode_structured(values: np.ndarray, out_width, in_width, in_channels: int,
                      depth_multiplier: int = 0) -> Nested:
    """REDS prefixes: dense rows in place, per-level output and input widths."""
    rows, cols = values.shape
    table = np.concatenate([np.asarray(out_width, np.int32), np.asarray(in_width, np.int32)])
    return Nested("structured", len(out_width), rows, cols, values=np.ascontiguousarray(values.reshape(-1)),
                  level_table=table, in_channels=in_channels, depth_multiplier=depth_multiplier)


def structured_widths(unit_levels: np.ndarray, input_levels: np.ndarray, num_levels: int):
    """Per-level output and input widths from unit and input-channel levels (must be prefixes)."""
    out_w, in_w = [], []
    for k in range(num_levels):
        for name, lv, widths in (("output unit", unit_levels, out_w), ("input channel", input_levels, in_w)):
            active = lv <= k
            n = int(active.sum())
            if not active[:n].all():
                raise ValueError(f"structured level {k}: active {name}s are not a prefix")
            widths.append(n)
    return out_w, in_w


def pack_tables(tables: list[np.ndarray], nested: Nested) -> tuple[int, list[np.ndarray]]:
    """The layout (option ``tables``) and stored form of an operator's ``[L, rows]`` tables.

    Format version 2 (docs/format.md §5): a layer's tables are stored once
    (``[rows]``, shared) when no level changes them (no per-level BatchNorm
    after it); a structured layer stores only each level's active rows,
    level after level (prefix layout: level ``k``'s ``out_width[k]`` rows);
    otherwise ``[L, rows]``. All tables of one operator share the layout.
    """
    if all(bool((t == t[:1]).all()) for t in tables):
        return options.TABLES_SHARED, [np.ascontiguousarray(t[0]) for t in tables]
    if nested.format == "structured":
        widths = nested.level_table[: nested.num_levels]
        return options.TABLES_PREFIX, [
            np.ascontiguousarray(np.concatenate([t[k, : int(w)] for k, w in enumerate(widths)])) for t in tables]
    return options.TABLES_PER_LEVEL, tables


def join_tables(tables: list[np.ndarray]) -> np.ndarray:
    """The tables of one operator as its single input 5 (format v5, docs/format.md §12).

    int8: bias (int32), multiplier (int32), shift (int8) of the same length
    ``n``, back to back (``9 n`` bytes; the multipliers start at byte ``4 n``,
    the shifts at ``8 n``); float32: bias and scale (``8 n`` bytes).
    """
    lengths = {t.size for t in tables}
    if len(lengths) != 1:
        raise ValueError(f"the tables of one operator differ in length: {[t.size for t in tables]}")
    return np.frombuffer(b"".join(np.ascontiguousarray(t.ravel()).astype(t.dtype.newbyteorder("<")).tobytes()
                                  for t in tables), np.uint8).copy()


def split_tables(blob: np.ndarray, int8: bool) -> list[np.ndarray]:
    """`join_tables` undone: ``[bias, multiplier, shift]`` (int8) or ``[bias, scale]`` (float32), 1-D."""
    raw = np.ascontiguousarray(blob, np.uint8).tobytes()
    types = (np.dtype("<i4"), np.dtype("<i4"), np.dtype("i1")) if int8 else (np.dtype("<f4"), np.dtype("<f4"))
    entry = sum(t.itemsize for t in types)
    if len(raw) % entry:
        raise ValueError(f"tables of {len(raw)} bytes are not whole entries of {entry} bytes")
    n, out, start = len(raw) // entry, [], 0
    for t in types:
        out.append(np.frombuffer(raw, t, n, start).astype(t.newbyteorder("=")))
        start += n * t.itemsize
    return out


# Bytes per output row of the per-channel tables: bias + multiplier (int32) + shift (int8), or float bias + scale.
_TABLE_ROW_BYTES = {True: 9, False: 8}


def bytes_read(nested: Nested, level: int, int8: bool) -> int:
    """Weight-side bytes one inference reads at ``level`` (values, indices, pointers, tables)."""
    vsize = 1 if int8 else 4
    isize = 0 if nested.indices is None else nested.indices.itemsize
    row_bytes = _TABLE_ROW_BYTES[int8]
    tables = nested.rows * row_bytes
    if nested.dense_top and nested.format != "structured" and level == nested.num_levels - 1:
        return nested.rows * nested.cols * vsize + tables  # the dense kernel reads all of D
    # Below: a sparse level reads one value per entry (from D in format v4, int8).
    L = nested.sparse_levels
    if nested.format in ("nested_csr", "nested_block"):
        ptr = nested.level_table
        entries = int(sum(int(ptr[r * L + level + 1]) - int(ptr[r * L]) for r in range(nested.rows)))
        per_entry = (2 * vsize if nested.format == "nested_block" else vsize) + isize
        return entries * per_entry + nested.rows * 2 * ptr.itemsize + tables
    if nested.format == "row":
        return nested.rows * int(nested.level_table[level]) * (vsize + isize) + tables
    out_w, in_w = int(nested.level_table[level]), int(nested.level_table[L + level])
    if nested.depth_multiplier:
        return out_w * nested.cols * vsize + out_w * row_bytes
    taps = nested.cols // max(nested.in_channels, 1)
    return out_w * in_w * taps * vsize + out_w * row_bytes
