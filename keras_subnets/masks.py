# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Nested mask assignment: which level first contains each weight.

Every function here works on the canonical weight matrix of a layer, shape
``(out, R)``: one row per output unit (neuron, filter or depthwise channel),
``R`` weights per row. It returns an int32 array of the same shape holding,
per weight, the index of the sparsest level that keeps it, or ``L`` (the
number of levels) when no level keeps it. Level ``k``'s mask is
``assignment <= k``, so level ``k``'s non-zeros are always a subset of level
``k + 1``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MASK_KINDS = ("unstructured", "row", "block", "structured")


def keep_counts(total: int, sparsities: Sequence[float], minimum: int = 0) -> np.ndarray:
    """Number of items each level keeps out of ``total`` (non-decreasing)."""
    counts = np.array([int(round((1.0 - s) * total)) for s in sparsities], dtype=np.int64)
    counts = np.clip(counts, min(minimum, total), total)
    return np.maximum.accumulate(counts)


def _levels_from_ranks(ranks: np.ndarray, counts: np.ndarray) -> np.ndarray:
    # Rank i (0 = most important) belongs to the first level whose count
    # exceeds i; searchsorted gives exactly that, and len(counts) for none.
    return np.searchsorted(counts, ranks, side="right").astype(np.int32)


def _ranks(scores: np.ndarray, axis: int | None) -> np.ndarray:
    """Rank of every entry by descending score (0 = largest), ties by position."""
    if axis is None:
        flat = scores.ravel()
        order = np.argsort(-flat, kind="stable")
        ranks = np.empty_like(order)
        ranks[order] = np.arange(flat.size)
        return ranks.reshape(scores.shape)
    order = np.argsort(-scores, axis=axis, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[axis])[None, :], axis=axis)
    return ranks


def unstructured_levels(
    rows: np.ndarray, sparsities: Sequence[float], keep_row_max: bool = True
) -> np.ndarray:
    """Magnitude top-k over the whole layer, nested across levels.

    Args:
        rows: canonical weight matrix ``(out, R)``.
        sparsities: per-level sparsities, sparsest first.
        keep_row_max: put each row's largest weight in level 0 so no unit dies
            and every level shares the per-channel int8 scale of the dense row.

    Returns:
        int32 level assignment, shape ``(out, R)``.
    """
    scores = np.abs(rows).astype(np.float64)
    if keep_row_max:
        scores[np.arange(rows.shape[0]), np.argmax(scores, axis=1)] = np.inf
    minimum = rows.shape[0] if keep_row_max else 0
    counts = keep_counts(rows.size, sparsities, minimum)
    return _levels_from_ranks(_ranks(scores, None), counts)


def row_levels(rows: np.ndarray, sparsities: Sequence[float]) -> np.ndarray:
    """DRESS row-based sparsity: the same count of top-|w| entries in every row.

    Every level keeps at least one weight per row (the row's largest).
    """
    counts = keep_counts(rows.shape[1], sparsities, minimum=1)
    return _levels_from_ranks(_ranks(np.abs(rows), axis=1), counts)


def block_levels(
    rows: np.ndarray, sparsities: Sequence[float], keep_row_max: bool = True
) -> np.ndarray:
    """1x2 blocks along each row (Cortex-M SIMD pairs), nested like unstructured.

    Columns ``2b`` and ``2b + 1`` of a row form block ``b``; a block is kept or
    dropped whole. When ``R`` is odd the last block holds one column. Blocks
    are ranked by mean magnitude over their real columns.
    """
    out, r = rows.shape
    nblocks = (r + 1) // 2
    padded = np.zeros((out, 2 * nblocks))
    padded[:, :r] = np.abs(rows)
    width = np.full(nblocks, 2.0)
    if r % 2:
        width[-1] = 1.0
    scores = padded.reshape(out, nblocks, 2).sum(axis=2) / width
    if keep_row_max:
        scores[np.arange(out), np.argmax(np.abs(rows), axis=1) // 2] = np.inf
    minimum = out if keep_row_max else 0
    counts = keep_counts(scores.size, sparsities, minimum)
    block_assign = _levels_from_ranks(_ranks(scores, None), counts)
    return np.repeat(block_assign, 2, axis=1)[:, :r]


def prefix_levels(n: int, widths: Sequence[int]) -> np.ndarray:
    """Level of each of ``n`` units when level ``k`` keeps the first ``widths[k]``."""
    widths = np.asarray(widths, dtype=np.int64)
    if widths.ndim != 1 or np.any(np.diff(widths) < 0) or widths.min() < 1 or widths.max() > n:
        raise ValueError(
            f"widths {list(widths)} must be non-decreasing integers in [1, {n}]"
        )
    return _levels_from_ranks(np.arange(n), widths)


def nested_levels(
    kind: str, rows: np.ndarray, sparsities: Sequence[float], keep_row_max: bool = True
) -> np.ndarray:
    """Dispatches to the magnitude-based assignment of ``kind``."""
    if kind == "unstructured":
        return unstructured_levels(rows, sparsities, keep_row_max)
    if kind == "row":
        return row_levels(rows, sparsities)
    if kind == "block":
        return block_levels(rows, sparsities, keep_row_max)
    raise ValueError(f"mask kind {kind!r} is not magnitude-based; expected one of "
                     "'unstructured', 'row', 'block'")
