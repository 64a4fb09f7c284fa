# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Callback that keeps every level's BatchNorm statistics exact."""

from __future__ import annotations

import keras

from keras_subnets.calibration import recalibrate_batch_norm


class RecalibrateBatchNorm(keras.callbacks.Callback):
    """Re-estimates each level's BatchNorm statistics before validation and at the end of ``fit``.

    Per-level moving averages trail the weights, most at the sparse levels
    whose masks move under a schedule; evaluating with them makes small nets
    swing by points from epoch to epoch. This callback replaces them with
    exact averages over ``x`` (see `keras_subnets.recalibrate_batch_norm`)
    right before each validation pass inside ``fit`` and once when training
    ends, so the saved model and every validation number use settled
    statistics. An LCS subspace's α bands are recalibrated the same way.

    Args:
        x: training inputs to estimate the statistics from.
        batch_size: samples per forward pass.
        max_batches: batches per level (LCS: per band).
    """

    def __init__(self, x, batch_size: int = 256, max_batches: int = 40):
        super().__init__()
        self.x = x
        self.batch_size = batch_size
        self.max_batches = max_batches
        self._fitting = False

    def _recalibrate(self):
        recalibrate_batch_norm(self.model, self.x, self.batch_size, self.max_batches)

    def on_train_begin(self, logs=None):
        self._fitting = True

    def on_test_begin(self, logs=None):
        if self._fitting:
            self._recalibrate()

    def on_train_end(self, logs=None):
        self._fitting = False
        self._recalibrate()
