# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Fully-connected layer whose weights live in a compressible subspace."""

from __future__ import annotations

import keras
from keras import ops

from keras_subnets.layers.weight_layer import DenseOperation
from keras_subnets.lcs.lcs_layer import LcsLayerMixin


@keras.saving.register_keras_serializable(package="keras_subnets")
class LcsDense(LcsLayerMixin, DenseOperation, keras.layers.Dense):
    """`keras.layers.Dense` trained as an LCS point or line.

    Takes every argument of `keras.layers.Dense` plus:

    Args:
        compression: ``"unstructured"`` (keep the top round(α·N) |w| of the
            layer), ``"structured"`` (keep the leading 0.25 + 0.75·α of the
            units) or ``"bits"`` (fake-quantize to `alpha.bit_width` bits).
        variant: ``"point"`` (LCS+P, one set of weights) or ``"line"``
            (LCS+L, w(α) = (1 − α)·w₀ + α·w₁).
        min_bits: ``bits`` only: bit width at α = 0 (3..8).
        max_bits: ``bits`` only: bit width at α = 1 (3..8).
        regularization: LCS+L's β in β·cos²(w₀, w₁), added as a layer loss.
        structured_inputs: ``structured`` only: the input channels come
            from a structured layer, so only its kept prefix is read.
        structured_outputs: ``structured`` only: slice the units (False for a
            classifier, which keeps every class).
        input_tile: how many positions a Flatten spread each input channel
            over (the input index is ``position · channels + channel``).
    """

    def build(self, input_shape):
        super().build(input_shape)
        self._build_lcs()

    def _structured_masks(self, fraction):
        inputs = int(self.kernel.shape[0])
        out_mask = self._prefix(fraction, self.units) if self.structured_outputs else ops.ones((self.units,))
        if self.structured_inputs:
            in_mask = ops.tile(self._prefix(fraction, inputs // self.input_tile), (self.input_tile,))
        else:
            in_mask = ops.ones((inputs,))
        return in_mask[:, None] * out_mask[None, :], out_mask

    def get_config(self) -> dict:
        return {**super().get_config(), **self._lcs_config()}
