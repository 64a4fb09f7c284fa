# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The numpy side of `core_binding` (no C library built): every encoder decoded back by a reference
decoder written here from docs/format.md, the index and pointer widths, the structured levels, and
the parameter structs' checks."""

import numpy as np
import pytest

from keras_subnets.firmware import core_binding as kb


def decode(nested: kb.Nested, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(dense W with zeros where no level holds an entry, first level) of an encoded matrix.

    int8 sparse formats store the dense rows as values (format v4); float32 one value per entry.
    """
    rows, cols, L = nested.rows, nested.cols, nested.num_levels
    W, first = np.zeros((rows, cols), dtype), np.full((rows, cols), L, np.int32)
    dense = nested.values.reshape(rows, cols) if dtype == np.int8 and nested.fmt != "structured" else None
    if nested.fmt in ("nested_csr", "nested_block"):
        width = 1 if nested.fmt == "nested_csr" else 2
        for r in range(rows):
            for k in range(L):
                for e in range(int(nested.ptr[r * L + k]), int(nested.ptr[r * L + k + 1])):
                    for half in range(width):
                        c = int(nested.indices[e]) * width + half
                        if c < cols:
                            W[r, c] = dense[r, c] if dense is not None else nested.values[e * width + half]
                            first[r, c] = k
    elif nested.fmt == "row":
        per_row = int(nested.counts[-1])
        for r in range(rows):
            for j in range(per_row):
                c = int(nested.indices[r * per_row + j])
                W[r, c] = dense[r, c] if dense is not None else nested.values[r * per_row + j]
                first[r, c] = int(np.searchsorted(nested.counts, j, side="right"))
    else:
        W = nested.values.reshape(rows, cols)
        for o in range(rows):
            for c in range(cols):
                channel = o // nested.depth_multiplier if nested.depth_multiplier else c % nested.in_channels
                active = [k for k in range(L) if o < nested.out_width[k] and channel < nested.in_width[k]]
                first[o, c] = active[0] if active else L
        W = np.where(first < L, W, 0)
    return W, first


def _matrix(dtype, shape, rng):
    if dtype == np.int8:
        return rng.integers(-127, 128, shape).astype(np.int8)
    return rng.standard_normal(shape).astype(np.float32)


def _nested_levels(shape, L, rng):
    return np.minimum(rng.integers(0, L + 1, shape), L).astype(np.int32)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_nested_csr_and_block_decode_to_the_masked_matrix(dtype):
    rng = np.random.default_rng(0)
    W, L = _matrix(dtype, (5, 9), rng), 3
    first = _nested_levels(W.shape, L, rng)
    nested = kb.encode_nested_csr(W, first, L)
    got, got_first = decode(nested, dtype)
    np.testing.assert_array_equal(got_first, first)
    np.testing.assert_array_equal(got, np.where(first < L, W, 0))
    assert nested.indices.dtype == np.uint8 and nested.ptr.dtype == np.uint16 and nested.ptr.size == 5 * L + 1
    blocks = _nested_levels((5, 5), L, rng)  # 1x2 blocks of 9 columns: the last holds one
    nested = kb.encode_nested_block(W, blocks, L)
    block_first = np.repeat(blocks, 2, axis=1)[:, :9]
    got, got_first = decode(nested, dtype)
    np.testing.assert_array_equal(got_first, block_first)
    np.testing.assert_array_equal(got, np.where(block_first < L, W, 0))


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_row_format_decodes_and_needs_equal_counts(dtype):
    rng = np.random.default_rng(1)
    W, L = _matrix(dtype, (4, 10), rng), 3
    first = np.full(W.shape, L, np.int32)
    for r in range(4):  # 2, 5, 8 entries per row at levels 0, 1, 2
        order = rng.permutation(10)
        first[r, order[:2]], first[r, order[2:5]], first[r, order[5:8]] = 0, 1, 2
    nested = kb.encode_row(W, first, L)
    assert nested.counts.tolist() == [2, 5, 8]
    got, got_first = decode(nested, dtype)
    np.testing.assert_array_equal(got_first, first)
    np.testing.assert_array_equal(got, np.where(first < L, W, 0))
    first[3, np.nonzero(first[3] == L)[0][0]] = 2  # one row with an extra entry
    with pytest.raises(ValueError, match="same count per row at every level"):
        kb.encode_row(W, first, L)


@pytest.mark.parametrize("depth_multiplier", [0, 2])
def test_structured_first_level_is_both_prefixes(depth_multiplier):
    rng = np.random.default_rng(2)
    if depth_multiplier:  # depthwise: rows are channel·multiplier outputs, columns the taps
        rows, cols, in_ch, out_w, in_w = 8, 9, 4, [2, 6, 8], [1, 3, 4]
    else:  # conv: columns are (tap, channel) with the channel fastest
        rows, cols, in_ch, out_w, in_w = 6, 12, 4, [2, 4, 6], [1, 2, 4]
    W = _matrix(np.float32, (rows, cols), rng)
    nested = kb.encode_structured(W, out_w, in_w, in_ch, depth_multiplier)
    got, got_first = decode(nested, np.float32)
    first = kb.structured_first_level(rows, cols, out_w, in_w, in_ch, depth_multiplier)
    np.testing.assert_array_equal(first, got_first)
    np.testing.assert_array_equal(got, np.where(first < 3, W, 0))
    assert nested.struct().num_table == 3 and nested.struct().format == kb.FORMATS["structured"]


def test_index_and_pointer_widths():
    assert kb.index_dtype(256) == np.uint8 and kb.index_dtype(257) == np.uint16
    assert kb.pointer_dtype(65535) == np.uint16 and kb.pointer_dtype(65536) == np.int32
    rng = np.random.default_rng(3)
    W = _matrix(np.float32, (2, 300), rng)
    nested = kb.encode_nested_csr(W, np.zeros(W.shape, np.int32), 1)
    assert nested.indices.dtype == np.uint16 and nested.nbytes() == 600 * 4 + 600 * 2 + 3 * 2


def test_prefix_tables_store_each_levels_active_rows():
    table = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(kb.prefix_tables(table, [1, 2, 4]), [0, 4, 5, 8, 9, 10, 11])


def test_parameter_structs():
    q = kb.QuantParams(128, -3, -128, 127, np.ones((2, 4), np.int32), np.zeros((2, 4)), np.zeros((2, 4)))
    assert q.struct().per_level == 1 and q.struct().input_offset == 128
    assert kb.QuantParams(0, 0, -128, 127, np.ones(4), np.zeros(4), layout=2).struct().per_level == 2
    with pytest.raises(ValueError, match="format v2 stores shifts as int8"):
        kb.QuantParams(0, 0, -128, 127, np.ones(4), np.array([0, -129, 0, 0])).struct()
    f = kb.FloatParams(-6.0, 6.0, None, np.zeros((3, 4)))
    assert f.struct().per_level == 1 and f.struct().scale is None
    geom = kb.ConvGeometry(3, 1, stride_h=2, pad_w=1, depth_multiplier=2).struct()
    assert (geom.kernel_h, geom.kernel_w, geom.stride_h, geom.stride_w, geom.pad_w, geom.depth_multiplier) == (
        3, 1, 2, 1, 1, 2)
