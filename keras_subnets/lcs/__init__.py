# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""LCS: learned compressible subspaces (Nunez et al., WACV 2023).

One training run spans a continuous range of compression levels α ∈ [0, 1]:
unstructured sparsity, structured width or bit width. LCS+P trains one
point at random α, LCS+L a line between two endpoints. `subspace` converts
a plain model, ``fit`` trains it, `set_alpha`/`alpha` pick α at evaluation,
`export_levels` maps α points onto nested levels for `keras_subnets.convert`.
"""

from keras_subnets.lcs.calibration import recalibrate_batch_norm
from keras_subnets.lcs.coordinates import (
    alpha_override,
    bit_width,
    sample_alpha,
    warmup_keep,
    width_fraction,
)
from keras_subnets.lcs.export import export_levels, materialize, storage_cost
from keras_subnets.lcs.lcs_batch_normalization import LcsBatchNormalization, band_edges
from keras_subnets.lcs.lcs_conv1d import LcsConv1D
from keras_subnets.lcs.lcs_conv2d import LcsConv2D
from keras_subnets.lcs.lcs_dense import LcsDense
from keras_subnets.lcs.lcs_depthwise_conv1d import LcsDepthwiseConv1D
from keras_subnets.lcs.lcs_depthwise_conv2d import LcsDepthwiseConv2D
from keras_subnets.lcs.lcs_layer import LcsLayerMixin
from keras_subnets.lcs.subspace import alpha, get_alpha, set_alpha, subspace
from keras_subnets.lcs.subspace_model import SubspaceModel

__all__ = [
    "LcsBatchNormalization",
    "LcsConv1D",
    "LcsConv2D",
    "LcsDense",
    "LcsDepthwiseConv1D",
    "LcsDepthwiseConv2D",
    "LcsLayerMixin",
    "SubspaceModel",
    "alpha",
    "alpha_override",
    "band_edges",
    "bit_width",
    "export_levels",
    "get_alpha",
    "materialize",
    "recalibrate_batch_norm",
    "sample_alpha",
    "set_alpha",
    "storage_cost",
    "subspace",
    "warmup_keep",
    "width_fraction",
]
