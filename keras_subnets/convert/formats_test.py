"""Format version 2 packing rules: pointer width, shared tables, bytes read (docs/format.md)."""

import numpy as np
import pytest

from keras_subnets.convert import formats
from keras_subnets.convert.converter import bytes_read, share_tables


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


def test_tables_are_shared_only_when_every_table_is_level_independent():
    rows, L = 5, 3
    bias = np.tile(np.arange(rows, dtype=np.int32), (L, 1))
    mult = np.tile(np.full(rows, 1 << 30, np.int32), (L, 1))
    shift = np.tile(np.full(rows, -7, np.int8), (L, 1))
    shared = share_tables([bias, mult, shift])
    assert [t.shape for t in shared] == [(rows,)] * 3
    assert [t.dtype for t in shared] == [np.int32, np.int32, np.int8]
    np.testing.assert_array_equal(shared[2], shift[0])
    for i in range(3):
        tables = [bias.copy(), mult.copy(), shift.copy()]
        tables[i][1, 2] += 1  # one level differs in one table: every table stays per level
        assert [t.shape for t in share_tables(tables)] == [(L, rows)] * 3


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
