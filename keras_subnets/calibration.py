# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Re-estimating each level's BatchNorm statistics from data.

One loop (`estimate_rows`) serves the nested levels and the LCS bands of α:
each pass runs the model over the same batches with a running mean as the
BatchNorm momentum, under the level (or α) that selects the rows to refresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

import keras
import numpy as np

from keras_subnets import levels as levels_lib
from keras_subnets.layers import LevelBatchNormalization, SubnetBatchNormalization
from keras_subnets.model_layers import model_layers
from keras_subnets.selection import num_levels

# A pass: given the batch's position t (1-based) and the batch count, the
# context that selects the rows this batch updates.
RowSelector = Callable[[int, int], contextlib.AbstractContextManager]


def batches_of(x, batch_size: int, max_batches: int | None) -> list:
    """``x`` cut into batches of ``batch_size``, at most ``max_batches`` of them."""
    x = np.asarray(x)
    batches = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
    if max_batches is not None:
        batches = batches[:max_batches]
    if not batches:
        raise ValueError("recalibrate_batch_norm needs at least one input sample")
    return batches


def estimate_rows(model: keras.Model, batch_norms: Sequence[LevelBatchNormalization], batches: Sequence,
                  passes: Iterable[RowSelector]) -> None:
    """Replaces the rows each pass selects by averages of the batch statistics over ``batches``.

    The momentum of batch ``t`` is ``1 − 1/t``, so after the last batch a
    row holds the exact mean of the batches' statistics; weights are not
    changed and every layer's momentum is restored.
    """
    saved = [bn.momentum for bn in batch_norms]
    try:
        for select in passes:
            for t, batch in enumerate(batches, start=1):
                for bn in batch_norms:
                    bn.momentum = 1.0 - 1.0 / t  # a running mean of the batch statistics
                with select(t, len(batches)):
                    model([batch] if isinstance(model.input, (list, tuple)) else batch, training=True)
    finally:
        for bn, momentum in zip(batch_norms, saved, strict=True):
            bn.momentum = momentum


def recalibrate_batch_norm(model: keras.Model, x, batch_size: int = 256, max_batches: int | None = 40,
                           levels: Sequence[int] | None = None, alpha: float | None = None) -> None:
    """Replaces every level's BatchNorm moving statistics by exact averages over ``x``.

    Moving averages lag behind while masks move and trail by many steps at the
    sparse levels; slimmable and once-for-all networks recalibrate after
    training for that reason. Weights are not changed. A model with
    `keras_subnets.lcs.LcsBatchNormalization` layers is recalibrated per band
    of α (see `keras_subnets.lcs.recalibrate_batch_norm`); a level is then a
    band.

    Args:
        model: a model with per-level BatchNorm layers (others: no-op).
        x: input samples (array), in the model's input format.
        batch_size: samples per forward pass.
        max_batches: at most this many batches per level.
        levels: the levels (LCS: bands) to recalibrate (default all).
        alpha: LCS only: recalibrate the band holding this α with the exact
            statistics of α.

    Raises:
        ValueError: without samples, or with ``alpha`` for a nested model.
    """
    bns = model_layers(model, SubnetBatchNormalization)
    if not bns:
        if model_layers(model, LevelBatchNormalization):
            from keras_subnets.lcs.calibration import recalibrate_batch_norm as recalibrate_bands

            recalibrate_bands(model, x, batch_size, max_batches, alpha=alpha, bands=levels)
        return
    if alpha is not None:
        raise ValueError(f"model '{model.name}': alpha= applies to LCS subspaces; a nested model takes levels=")
    batches = batches_of(x, batch_size, max_batches)
    chosen = range(num_levels(model)) if levels is None else levels
    estimate_rows(model, bns, batches, [lambda t, n, k=k: levels_lib.level_override(k) for k in chosen])
