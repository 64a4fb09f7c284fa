# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Re-estimating each level's BatchNorm statistics from data."""

from __future__ import annotations

import keras
import numpy as np

from keras_subnets import levels as levels_lib
from keras_subnets.layers import SubnetBatchNormalization
from keras_subnets.model_layers import model_layers
from keras_subnets.selection import num_levels


def recalibrate_batch_norm(model: keras.Model, x, batch_size: int = 256, max_batches: int | None = 40,
                           levels: list[int] | None = None) -> None:
    """Replaces every level's BatchNorm moving statistics by exact averages over ``x``.

    Moving averages lag behind while masks move and trail by many steps at the
    sparse levels; slimmable and once-for-all networks recalibrate after
    training for that reason. Weights are not changed.

    Args:
        model: a model with `SubnetBatchNormalization` layers.
        x: input samples (array), in the model's input format.
        batch_size: samples per forward pass.
        max_batches: at most this many batches per level.
        levels: the levels to recalibrate (default all).
    """
    bns = model_layers(model, SubnetBatchNormalization)
    if not bns:
        return
    x = np.asarray(x)
    count = num_levels(model)
    batches = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
    if max_batches is not None:
        batches = batches[:max_batches]
    if not batches:
        raise ValueError("recalibrate_batch_norm needs at least one input sample")
    saved = [bn.momentum for bn in bns]
    try:
        for k in levels if levels is not None else range(count):
            for t, batch in enumerate(batches, start=1):
                for bn in bns:
                    bn.momentum = 1.0 - 1.0 / t  # a running mean of the batch statistics
                with levels_lib.level_override(k):
                    model([batch] if isinstance(model.input, (list, tuple)) else batch, training=True)
    finally:
        for bn, momentum in zip(bns, saved, strict=True):
            bn.momentum = momentum
