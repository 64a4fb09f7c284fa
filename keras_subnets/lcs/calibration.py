# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Re-estimating the per-α-band BatchNorm statistics from data."""

from __future__ import annotations

import keras
import numpy as np

from keras_subnets.lcs import coordinates
from keras_subnets.lcs.lcs_batch_normalization import LcsBatchNormalization
from keras_subnets.model_layers import model_layers


def recalibrate_batch_norm(model: keras.Model, x, batch_size: int = 256, max_batches: int | None = 40,
                           alpha: float | None = None) -> None:
    """Replaces every α band's BatchNorm moving statistics by averages over ``x``.

    A band is trained only by the steps whose α falls in it (the middle bands
    by few of them, since half of the draws are endpoints), so its moving
    averages lag far behind. Each band is re-estimated over α spread evenly
    across the band, one α per batch, so the row describes the whole band.
    Weights are not changed.

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

    Raises:
        ValueError: without samples, if α lies outside [0, 1], or if the
            layers disagree on the bands.
    """
    bns = model_layers(model, LcsBatchNormalization)
    if not bns:
        return
    bands = {tuple(bn.edges) for bn in bns}
    if len(bands) != 1:
        raise ValueError(f"model '{model.name}': LcsBatchNormalization layers use different α bands {sorted(bands)}")
    bins = len(bands.pop()) + 1
    x = np.asarray(x)
    batches = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
    if max_batches is not None:
        batches = batches[:max_batches]
    if not batches:
        raise ValueError("recalibrate_batch_norm needs at least one input sample")
    exact = None if alpha is None else coordinates.validate_alpha(alpha)
    saved = [bn.momentum for bn in bns]
    try:
        if exact is not None:
            for t, batch in enumerate(batches, start=1):
                for bn in bns:
                    bn.momentum = 1.0 - 1.0 / t
                with coordinates.alpha_override(exact):
                    model(batch, training=True)
            return
        for band in range(bins):
            for t, batch in enumerate(batches, start=1):
                for bn in bns:
                    bn.momentum = 1.0 - 1.0 / t  # a running mean of the batch statistics
                # α spread over the band [low, high), the last band up to 1 inclusive.
                low, high = bns[0].band_range(band)
                position = (t - 1) / max(len(batches) - 1, 1)
                if band < bins - 1:
                    position = (t - 0.5) / len(batches)
                with coordinates.alpha_override(min(low + position * (high - low), 1.0)):
                    model(batch, training=True)
    finally:
        for bn, momentum in zip(bns, saved, strict=True):
            bn.momentum = momentum
