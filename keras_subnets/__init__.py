# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""keras-subnets: one Keras model holding several nested sub-networks.

Train every level in one ``model.fit``, switch levels at run time, and
deploy all of them in one TFLite Micro flatbuffer.
"""

from keras_subnets import callbacks, datasets, layers, lcs, registry, schedules, zoo  # noqa: F401
from keras_subnets.calibration import recalibrate_batch_norm
from keras_subnets.callbacks import MaskScheduler, RecalibrateBatchNorm
from keras_subnets.evaluation import evaluate_levels, format_table, level_costs
from keras_subnets.layers import (
    SubnetBatchNormalization,
    SubnetConv1D,
    SubnetConv2D,
    SubnetDense,
    SubnetDepthwiseConv1D,
    SubnetDepthwiseConv2D,
)
from keras_subnets.models import SubnetModel
from keras_subnets.nest import nest, tfmot_prunable_layers
from keras_subnets.saving import load_model
from keras_subnets.selection import get_level, level, num_levels, set_level

__version__ = "0.1.0"


# Sub-packages that import TensorFlow's converter load on first use, so that
# `import keras_subnets` stays light on the JAX and PyTorch backends.
_LAZY_SUBMODULES = ("convert", "reds", "knapsack", "firmware")


def __getattr__(name: str):
    if name == "profile":  # runs real TFLM firmware: keras_subnets.firmware loads on first use too
        from keras_subnets.firmware.profile import profile

        return profile
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f"keras_subnets.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'keras_subnets' has no attribute {name!r}")


__all__ = [
    "MaskScheduler",
    "RecalibrateBatchNorm",
    "SubnetBatchNormalization",
    "SubnetConv1D",
    "SubnetConv2D",
    "SubnetDense",
    "SubnetDepthwiseConv1D",
    "SubnetDepthwiseConv2D",
    "SubnetModel",
    "callbacks",
    "convert",
    "datasets",
    "evaluate_levels",
    "format_table",
    "get_level",
    "layers",
    "level",
    "level_costs",
    "load_model",
    "nest",
    "reds",
    "registry",
    "num_levels",
    "profile",
    "recalibrate_batch_norm",
    "schedules",
    "set_level",
    "tfmot_prunable_layers",
]
