# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Sub-network layers: drop-in replacements for Keras weight layers."""

from keras_subnets.layers.level_batch_normalization import LevelBatchNormalization
from keras_subnets.layers.subnet_batch_normalization import SubnetBatchNormalization
from keras_subnets.layers.subnet_conv1d import SubnetConv1D
from keras_subnets.layers.subnet_conv2d import SubnetConv2D
from keras_subnets.layers.subnet_dense import SubnetDense
from keras_subnets.layers.subnet_depthwise_conv1d import SubnetDepthwiseConv1D
from keras_subnets.layers.subnet_depthwise_conv2d import SubnetDepthwiseConv2D
from keras_subnets.layers.subnet_layer import SubnetLayerMixin

__all__ = [
    "LevelBatchNormalization",
    "SubnetBatchNormalization",
    "SubnetConv1D",
    "SubnetConv2D",
    "SubnetDense",
    "SubnetDepthwiseConv1D",
    "SubnetDepthwiseConv2D",
    "SubnetLayerMixin",
]
