# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Training callbacks."""

from keras_subnets.callbacks.batch_norm_recalibration import RecalibrateBatchNorm
from keras_subnets.callbacks.mask_scheduler import MaskScheduler

__all__ = ["MaskScheduler", "RecalibrateBatchNorm"]
