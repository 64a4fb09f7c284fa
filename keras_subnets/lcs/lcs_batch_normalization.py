"""Batch normalization with one set of statistics per band of α."""

from __future__ import annotations

import keras
from keras import ops

from keras_subnets.layers import SubnetBatchNormalization
from keras_subnets.lcs import coordinates as alpha_lib


def alpha_bin(alpha, bins: int):
    """Band of ``alpha``: ``min(floor(α·bins), bins − 1)`` as int32 (α = 1 is the last)."""
    if isinstance(alpha, (int, float)):
        return min(int(alpha * bins), bins - 1)
    band = ops.floor(ops.cast(alpha, "float32") * float(bins))
    return ops.cast(ops.clip(band, 0.0, float(bins - 1)), "int32")


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsBatchNormalization(SubnetBatchNormalization):
    """Our per-level BatchNorm, with α binned into ``bins`` equal bands.

    Networks at different α see different activation statistics; LCS's answer
    is GroupNorm/InstanceNorm (no running statistics). This layer keeps
    BatchNorm (foldable into the weights on a micro-controller) with one row
    of ``gamma``/``beta``/moving statistics per band of α: a training pass at
    α updates the row of its band, inference reads it.

    Takes the arguments of `keras.layers.BatchNormalization` plus:

    Args:
        bins: number of α bands (2..16).
    """

    def __init__(self, *args, bins: int = 4, **kwargs):
        kwargs.pop("levels", None)
        bins = int(bins)
        if not 1 <= bins <= 16:
            raise ValueError(f"LcsBatchNormalization: bins must lie in 1..16, got {bins}")
        # SubnetBatchNormalization only counts its levels; these placeholders
        # are the sparsities it requires.
        levels = [1.0 - (k + 1) / bins for k in range(bins)]
        super().__init__(*args, levels=levels, **kwargs)
        self.bins = bins

    def build(self, input_shape):
        super().build(input_shape)
        self.alpha = self.add_weight(
            name="alpha", shape=(), initializer=keras.initializers.Constant(1.0),
            dtype="float32", trainable=False,
        )

    def _current_level(self):
        forced = alpha_lib.current_override()
        return alpha_bin(self.alpha if forced is None else forced.alpha_for(self.name), self.bins)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("levels", None)
        config["bins"] = self.bins
        return config
