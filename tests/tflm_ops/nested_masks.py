# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Random nested masks for each format, and the encoders that go with them."""

from __future__ import annotations

import numpy as np

from keras_subnets.firmware import core_binding as kb


def random_levels(rng, num_levels: int, shape, keep_prob=None) -> np.ndarray:
    """first_level per entry: level k adds each remaining entry with some
    probability; entries never added get num_levels (absent)."""
    fl = np.full(shape, num_levels, np.int32)
    for k in range(num_levels):
        p = keep_prob[k] if keep_prob is not None else rng.uniform(0.1, 0.5)
        add = (fl == num_levels) & (rng.random(shape) < p)
        fl[add] = k
    return fl


def _force_largest(fl: np.ndarray, W: np.ndarray) -> None:
    """Keep each row's largest-|w| entry at every level, so a re-quantized
    level would keep its per-channel scale."""
    fl[np.arange(W.shape[0]), np.argmax(np.abs(W), axis=1)] = 0


def make_nested(fmt: str, W: np.ndarray, num_levels: int, rng, *, in_channels: int, depth_multiplier: int = 0):
    """Encode W with a random nested mask of format `fmt`.

    Returns (nested, first_level) where first_level has W's shape."""
    rows, cols = W.shape
    L = num_levels
    if fmt == "nested_csr":
        fl = random_levels(rng, L, W.shape)
        _force_largest(fl, W)
        return kb.encode_nested_csr(W, fl, L), fl
    if fmt == "nested_block":
        nb = (cols + 1) // 2
        bfl = random_levels(rng, L, (rows, nb))
        bfl[np.arange(rows), np.argmax(np.abs(W), axis=1) // 2] = 0
        fl = np.repeat(bfl, 2, axis=1)[:, :cols]
        return kb.encode_nested_block(W, bfl, L), fl
    if fmt == "row":
        counts = np.sort(rng.integers(1, cols + 1, size=L))
        fl = np.full(W.shape, L, np.int32)
        for r in range(rows):
            order = rng.permutation(cols)
            top = int(np.argmax(np.abs(W[r])))
            order = np.concatenate([[top], order[order != top]])
            for j, c in enumerate(order):
                k = int(np.searchsorted(counts, j, side="right"))
                fl[r, c] = k  # j < counts[k] for the first such k
        return kb.encode_row(W, fl, L), fl
    if fmt == "structured":
        if depth_multiplier:
            in_w = np.sort(rng.integers(0, in_channels + 1, size=L))
            in_w[-1] = max(in_w[-1], 1)
            out_w = in_w * depth_multiplier
        else:
            in_w = np.sort(rng.integers(1, in_channels + 1, size=L))
            out_w = np.sort(rng.integers(0, rows + 1, size=L))
            out_w[-1] = max(out_w[-1], 1)
        fl = kb.structured_first_level(rows, cols, out_w, in_w, in_channels, depth_multiplier)
        return kb.encode_structured(W, out_w, in_w, in_channels, depth_multiplier), fl
    raise ValueError(fmt)
