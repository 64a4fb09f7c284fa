# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Batch normalization with one set of statistics per band of α."""

from __future__ import annotations

import keras
from keras import ops

from keras_subnets.layers.level_batch_normalization import LevelBatchNormalization
from keras_subnets.lcs import coordinates as alpha_lib

BAND_SPACINGS = ("linear", "geometric")


def band_edges(bins: int, spacing: str = "linear", alpha_min: float = 0.025) -> list[float]:
    """The ``bins − 1`` inner edges of the α bands.

    ``linear``: ``k / bins``. ``geometric``: ``alpha_min ** (1 − k / bins)``,
    equal ratios from ``alpha_min`` to 1, so the sparse end, where a small
    change of α changes activations several-fold, gets narrow bands.
    """
    if spacing not in BAND_SPACINGS:
        raise ValueError(f"unknown band spacing {spacing!r}; expected one of {BAND_SPACINGS}")
    if spacing == "linear":
        return [k / bins for k in range(1, bins)]
    if not 0.0 < alpha_min < 1.0:
        raise ValueError(f"geometric α bands need 0 < alpha_min < 1, got {alpha_min}")
    return [float(alpha_min ** (1.0 - k / bins)) for k in range(1, bins)]


def alpha_bin(alpha, edges):
    """Band of ``alpha``: how many inner ``edges`` lie at or below it, as int32.

    ``edges`` may be a band count for ``linear`` bands (``min(floor(α·bins),
    bins − 1)``); α = 1 is in the last band.
    """
    if isinstance(edges, int):
        edges = band_edges(edges)
    if isinstance(alpha, (int, float)):
        return sum(1 for e in edges if alpha >= e)
    alpha = ops.cast(alpha, "float32")
    band = ops.zeros((), "int32")
    for e in edges:
        band = band + ops.cast(ops.greater_equal(alpha, e), "int32")
    return band


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsBatchNormalization(LevelBatchNormalization):
    """The per-level BatchNorm (`LevelBatchNormalization`) with α binned into ``bins`` bands.

    Networks at different α see different activation statistics; LCS's answer
    is GroupNorm/InstanceNorm (no running statistics). This layer keeps
    BatchNorm (foldable into the weights on a micro-controller) with one row
    of ``gamma``/``beta``/moving statistics per band of α: a training pass at
    α updates the row of its band, inference reads it.

    Takes the arguments of `keras.layers.BatchNormalization` plus:

    Args:
        bins: number of α bands (1..16).
        edges: the ``bins − 1`` inner band edges, increasing in (0, 1)
            (see `band_edges`); default equal bands.
    """

    def __init__(self, *args, bins: int = 4, edges=None, **kwargs):
        kwargs.pop("levels", None)  # written by versions whose LCS BatchNorm was a SubnetBatchNormalization
        bins = int(bins)
        if not 1 <= bins <= 16:
            raise ValueError(f"LcsBatchNormalization: bins must lie in 1..16, got {bins}")
        edges = band_edges(bins) if edges is None else [float(e) for e in edges]
        if len(edges) != bins - 1 or any(not 0.0 < e < 1.0 for e in edges) \
                or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"LcsBatchNormalization '{kwargs.get('name', '')}': edges must be {bins - 1} "
                             f"increasing values in (0, 1), got {edges}")
        super().__init__(*args, **kwargs)
        self.edges = edges
        self.bins = bins

    @property
    def num_levels(self) -> int:
        return self.bins

    def build(self, input_shape):
        super().build(input_shape)
        self.alpha = self.add_weight(
            name="alpha", shape=(), initializer=keras.initializers.Constant(1.0),
            dtype="float32", trainable=False,
        )

    def _current_level(self):
        forced = alpha_lib.current_override()
        return alpha_bin(self.alpha if forced is None else forced.alpha_for(self.name), self.edges)

    def band_range(self, band: int) -> tuple[float, float]:
        """The α interval ``[low, high)`` of ``band`` (the last one includes 1)."""
        full = [0.0, *self.edges, 1.0]
        return full[band], full[band + 1]

    def get_config(self) -> dict:
        config = super().get_config()
        config["bins"] = self.bins
        config["edges"] = list(self.edges)
        return config
