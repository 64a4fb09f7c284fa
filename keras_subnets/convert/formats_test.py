# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Format version 2 packing rules: pointer width, shared tables, bytes read (docs/format.md)."""

import numpy as np
import pytest

from keras_subnets.convert import formats, options
from keras_subnets.convert.densify import level_row
from keras_subnets.convert.formats import bytes_read, pack_tables


def random_levels(rng, rows, cols, L, density=0.6):
    levels = np.full((rows, cols), L, np.int32)
    keep = rng.random((rows, cols)) < density
    levels[keep] = rng.integers(0, L, size=int(keep.sum()))
    return levels


def test_pointer_width_follows_the_entry_count():
    assert formats.pointer_dtype(0) == np.uint16
    assert formats.pointer_dtype(65535) == np.uint16
    assert formats.pointer_dtype(65536) == np.int32
    rng = np.random.default_rng(0)
    L = 3
    small = random_levels(rng, 20, 30, L)
    values = rng.integers(-127, 128, size=small.shape).astype(np.int8)
    nested = formats.encode_nested_csr(values, small, L)
    assert nested.level_table.dtype == np.uint16
    assert int(nested.level_table[-1]) == nested.indices.size == int((small < L).sum())
    # 256 x 300, every weight kept: 76,800 entries need int32 pointers.
    full = rng.integers(0, L, size=(256, 300)).astype(np.int32)
    big = formats.encode_nested_csr(np.ones(full.shape, np.int8), full, L)
    assert big.indices.size == 76800 and big.level_table.dtype == np.int32
    assert big.level_table[-1] == 76800
    # Blocks count once per pair: 256 x 600 columns, every block kept = 76,800 blocks.
    blocks = np.repeat(rng.integers(0, L, size=(256, 300)).astype(np.int32), 2, axis=1)
    nb = formats.encode_nested_block(np.ones(blocks.shape, np.int8), blocks, L)
    assert nb.indices.size == 76800 and nb.level_table.dtype == np.int32
    half = formats.encode_nested_block(np.ones((256, 300), np.int8), blocks[:, :300], L)
    assert half.indices.size == 38400 and half.level_table.dtype == np.uint16


def test_pointers_agree_with_the_int64_cumulative_counts():
    rng = np.random.default_rng(1)
    L = 4
    levels = random_levels(rng, 33, 17, L)
    nested = formats.encode_nested_csr(np.ones(levels.shape, np.int8), levels, L)
    counts = np.stack([(levels == k).sum(axis=1) for k in range(L)], axis=1).reshape(-1)
    np.testing.assert_array_equal(nested.level_table.astype(np.int64), np.concatenate([[0], np.cumsum(counts)]))


def _tables(rows, L, rng):
    bias = rng.integers(-1000, 1000, size=(L, rows)).astype(np.int32)
    mult = rng.integers(1 << 30, 1 << 31, size=(L, rows)).astype(np.int32)
    shift = rng.integers(-12, -3, size=(L, rows)).astype(np.int8)
    return [bias, mult, shift]


def test_tables_are_shared_only_when_every_table_is_level_independent():
    rows, L = 5, 3
    rng = np.random.default_rng(3)
    nested = formats.encode_nested_csr(np.ones((rows, 4), np.int8), np.zeros((rows, 4), np.int32), L)
    same = [np.tile(t[:1], (L, 1)) for t in _tables(rows, L, rng)]
    layout, shared = pack_tables(same, nested)
    assert layout == options.TABLES_SHARED
    assert [t.shape for t in shared] == [(rows,)] * 3
    assert [t.dtype for t in shared] == [np.int32, np.int32, np.int8]
    for i in range(3):
        tables = [t.copy() for t in same]
        tables[i][1, 2] += 1  # one level differs in one table: every table stays per level
        layout, packed = pack_tables(tables, nested)
        assert layout == options.TABLES_PER_LEVEL
        assert [t.shape for t in packed] == [(L, rows)] * 3


def test_structured_tables_store_only_each_levels_active_rows():
    rows, cols, L = 6, 4, 3
    rng = np.random.default_rng(4)
    out_w, in_w = [2, 2, 5], [1, 3, 4]
    nested = formats.encode_structured(np.ones((rows, cols), np.int8), out_w, in_w, cols)
    tables = _tables(rows, L, rng)
    layout, packed = pack_tables(tables, nested)
    assert layout == options.TABLES_PREFIX
    assert [t.shape for t in packed] == [(sum(out_w),)] * 3
    opts = {"tables": layout, "levels": L, "rows": rows}
    for k in range(L):
        for full, stored in zip(tables, packed, strict=True):
            got = level_row(stored, opts, nested.level_table, k)
            np.testing.assert_array_equal(got[: out_w[k]], full[k, : out_w[k]])
            assert not got[out_w[k]:].any()  # inactive rows are not stored
    # Shared tables win over the prefix layout when no level changes them.
    same = [np.tile(t[:1], (L, 1)) for t in tables]
    assert pack_tables(same, nested)[0] == options.TABLES_SHARED


@pytest.mark.parametrize("fmt", ["nested_csr", "nested_block", "row"])
@pytest.mark.parametrize("int8", [True, False])
def test_bytes_read_counts_the_stored_widths(fmt, int8):
    rng = np.random.default_rng(2)
    rows, cols, L = 12, 40, 3
    if fmt == "row":
        levels = np.full((rows, cols), L, np.int32)
        for r in range(rows):
            order = rng.permutation(cols)
            levels[r, order[:5]], levels[r, order[5:9]], levels[r, order[9:20]] = 0, 1, 2
    else:
        levels = random_levels(rng, rows, cols, L)
        if fmt == "nested_block":
            levels = np.repeat(levels[:, ::2], 2, axis=1)[:, :cols]
    values = rng.integers(-127, 128, size=(rows, cols)).astype(np.int8 if int8 else np.float32)
    nested = getattr(formats, f"encode_{fmt}")(values, levels, L)
    tables = rows * (9 if int8 else 8)  # bias + multiplier (int32) + int8 shift; float bias + scale
    top = bytes_read(nested, L - 1, int8)
    if fmt == "row":
        assert top == nested.values.nbytes + nested.indices.nbytes + tables
    else:
        # Two level pointers per row (its start and its level's end), at their stored width.
        assert top == nested.values.nbytes + nested.indices.nbytes + rows * 2 * 2 + tables
    assert bytes_read(nested, 0, int8) < top


@pytest.mark.parametrize("int8", [True, False])
def test_join_tables_lays_out_input_5(int8):
    """Format v5: bias, multiplier (scale), shift back to back, each n entries, little-endian."""
    rng = np.random.default_rng(3)
    n = 7
    if int8:
        tables = [rng.integers(-2**31, 2**31, n).astype(np.int32), rng.integers(-2**31, 2**31, n).astype(np.int32),
                  rng.integers(-31, 31, n).astype(np.int8)]
    else:
        tables = [rng.normal(size=n).astype(np.float32), rng.normal(size=n).astype(np.float32)]
    blob = formats.join_tables(tables)
    assert blob.dtype == np.uint8 and blob.size == n * (9 if int8 else 8)
    raw = blob.tobytes()
    assert raw[4 * n:8 * n] == tables[1].astype(tables[1].dtype.newbyteorder("<")).tobytes()  # multipliers at 4n
    if int8:
        assert raw[8 * n:] == tables[2].tobytes()  # shifts at 8n
    for got, want in zip(formats.split_tables(blob, int8), tables, strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
    with pytest.raises(ValueError, match="differ in length"):
        formats.join_tables([tables[0][:-1], *tables[1:]])
    with pytest.raises(ValueError, match="not whole entries"):
        formats.split_tables(blob[:-1], int8)
