# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import numpy as np
import pytest

from keras_subnets import masks

LEVELS = [0.9, 0.75, 0.5, 0.0]


def _check_nested(assign, n_levels):
    for k in range(n_levels - 1):
        inner, outer = assign <= k, assign <= k + 1
        assert not np.any(inner & ~outer), f"level {k} is not a subset of level {k + 1}"


@pytest.mark.parametrize("shape", [(8, 27), (64, 9), (3, 256), (10, 1)])
def test_unstructured_is_nested_top_k(shape):
    rows = np.random.default_rng(0).normal(size=shape)
    assign = masks.unstructured_levels(rows, LEVELS, keep_row_max=False)
    _check_nested(assign, len(LEVELS))
    for k, s in enumerate(LEVELS):
        kept = assign <= k
        assert kept.sum() == round((1 - s) * rows.size)
        if 0 < kept.sum() < rows.size:
            assert np.abs(rows[kept]).min() >= np.abs(rows[~kept]).max()


def test_unstructured_keeps_each_rows_largest_weight():
    rows = np.random.default_rng(1).normal(size=(16, 40))
    rows[3] *= 1e-3  # a row of tiny weights would vanish under plain top-k
    assign = masks.unstructured_levels(rows, LEVELS, keep_row_max=True)
    biggest = np.argmax(np.abs(rows), axis=1)
    assert np.all(assign[np.arange(16), biggest] == 0)
    _check_nested(assign, len(LEVELS))


@pytest.mark.parametrize("shape", [(8, 27), (5, 9), (4, 1000)])
def test_row_keeps_the_same_count_in_every_row(shape):
    rows = np.random.default_rng(2).normal(size=shape)
    assign = masks.row_levels(rows, LEVELS)
    _check_nested(assign, len(LEVELS))
    for k, s in enumerate(LEVELS):
        per_row = (assign <= k).sum(axis=1)
        assert np.all(per_row == per_row[0])
        assert per_row[0] == max(1, round((1 - s) * shape[1]))
        for r in range(shape[0]):
            kept = assign[r] <= k
            if 0 < kept.sum() < shape[1]:
                assert np.abs(rows[r][kept]).min() >= np.abs(rows[r][~kept]).max()


@pytest.mark.parametrize("shape", [(8, 28), (6, 9)])
def test_block_keeps_pairs_together(shape):
    rows = np.random.default_rng(3).normal(size=shape)
    assign = masks.block_levels(rows, LEVELS)
    _check_nested(assign, len(LEVELS))
    even = shape[1] - shape[1] % 2
    assert np.array_equal(assign[:, 0:even:2], assign[:, 1:even:2])
    dense = assign <= len(LEVELS) - 1
    assert dense.all()


def test_prefix_levels():
    assert list(masks.prefix_levels(6, [1, 3, 6])) == [0, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError, match="non-decreasing"):
        masks.prefix_levels(6, [3, 2, 6])
    with pytest.raises(ValueError, match=r"\[1, 6\]"):
        masks.prefix_levels(6, [0, 2, 6])


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="not magnitude-based"):
        masks.nested_levels("structured", np.ones((2, 2)), [0.0])
