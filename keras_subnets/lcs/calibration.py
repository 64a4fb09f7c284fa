# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Re-estimating the per-α-band BatchNorm statistics from data."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_subnets.calibration import batches_of, estimate_rows
from keras_subnets.lcs import coordinates
from keras_subnets.lcs.lcs_batch_normalization import LcsBatchNormalization
from keras_subnets.model_layers import model_layers


def band_alpha(low: float, high: float, last: bool, t: int, count: int) -> float:
    """The α of batch ``t`` of ``count`` when re-estimating the band ``[low, high)``.

    α is spread evenly over the band, one α per batch, so the row describes
    the whole band; the last band runs up to 1 inclusive.
    """
    position = (t - 1) / max(count - 1, 1) if last else (t - 0.5) / count
    return min(low + position * (high - low), 1.0)


def recalibrate_batch_norm(model: keras.Model, x, batch_size: int = 256, max_batches: int | None = 40,
                           alpha: float | None = None, bands: Sequence[int] | None = None) -> None:
    """Replaces every α band's BatchNorm moving statistics by averages over ``x``.

    A band is trained only by the steps whose α falls in it (the middle bands
    by few of them, since half of the draws are endpoints), so its moving
    averages lag far behind. Each band is re-estimated over α spread evenly
    across the band, one α per batch (`band_alpha`), so the row describes
    the whole band. Weights are not changed. The loop is
    `keras_subnets.calibration.estimate_rows`, as for nested levels.

    Args:
        model: a model with `LcsBatchNormalization` layers (others: no-op).
        x: input samples (array), in the model's input format.
        batch_size: samples per forward pass.
        max_batches: at most this many batches per band.
        alpha: re-estimate only the band holding this α, with the exact
            statistics of α (every batch run at α). A band spans a range of
            α whose activations can differ several-fold at high sparsity;
            this gives the one network about to be evaluated or exported
            its own statistics. Other bands are left as they are.
        bands: the bands to re-estimate (default all); not with ``alpha``.

    Raises:
        ValueError: without samples, if α lies outside [0, 1], if the
            layers disagree on the bands, or with both ``alpha`` and ``bands``.
    """
    bns = model_layers(model, LcsBatchNormalization)
    if not bns:
        return
    edges = {tuple(bn.edges) for bn in bns}
    if len(edges) != 1:
        raise ValueError(f"model '{model.name}': LcsBatchNormalization layers use different α bands {sorted(edges)}")
    bins = len(edges.pop()) + 1
    chosen = range(bins) if bands is None else [int(b) for b in bands]
    if any(not 0 <= b < bins for b in chosen):
        raise ValueError(f"model '{model.name}': bands {list(chosen)} out of range; the subspace has {bins} α bands")
    batches = batches_of(x, batch_size, max_batches)
    if alpha is not None:
        if bands is not None:
            raise ValueError(f"model '{model.name}': give alpha= or bands= (levels=), not both")
        exact = coordinates.validate_alpha(alpha)
        estimate_rows(model, bns, batches, [lambda t, n: coordinates.alpha_override(exact)])
        return

    def spread_over(band):
        low, high = bns[0].band_range(band)
        return lambda t, n: coordinates.alpha_override(band_alpha(low, high, band == bins - 1, t, n))

    estimate_rows(model, bns, batches, [spread_over(b) for b in chosen])
