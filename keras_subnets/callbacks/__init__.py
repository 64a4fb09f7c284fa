"""Training callbacks."""

from keras_subnets.callbacks.mask_scheduler import MaskScheduler

__all__ = ["MaskScheduler"]
