# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Batch normalization with one set of statistics and affine terms per level."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_subnets import levels as levels_lib
from keras_subnets.layers.level_batch_normalization import LevelBatchNormalization


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetBatchNormalization(LevelBatchNormalization):
    """`keras.layers.BatchNormalization` with per-level statistics.

    Sub-networks see different activation statistics, so one shared set of
    moving mean/variance is wrong for all but one level (REDS's known
    weakness). This layer keeps ``gamma``, ``beta``, ``moving_mean`` and
    ``moving_variance`` as ``(L, channels)`` tables; training at level ``k``
    updates row ``k`` only and inference at level ``k`` reads row ``k``
    (`LevelBatchNormalization`).

    Takes the arguments of `keras.layers.BatchNormalization` (``renorm`` and
    ``synchronized`` are refused: synchronized per-level statistics are not
    implemented, and under MirroredStrategy the multi-level step diverged
    with them) plus:

    Args:
        levels: the model's per-level sparsities, sparsest first; only their
            count matters here.
        shared_affine: share one ``gamma``/``beta`` across levels instead of
            one per level.
    """

    def __init__(
        self,
        *args,
        levels: Sequence[float] | None = None,
        shared_affine: bool = False,
        **kwargs,
    ):
        super().__init__(*args, shared_affine=shared_affine, **kwargs)
        self.levels = levels_lib.validate_sparsities(
            [0.0] if levels is None else levels, where=f"layer '{self.name}' levels"
        )

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def _current_level(self):
        forced = levels_lib.current_override()
        return self.active_level if forced is None else forced

    def get_config(self) -> dict:
        return {**super().get_config(), "levels": list(self.levels)}
