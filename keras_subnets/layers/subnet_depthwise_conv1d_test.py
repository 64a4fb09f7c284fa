# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.layers import SubnetDepthwiseConv1D

LEVELS = [0.7, 0.0]


@pytest.mark.parametrize("kind", ["unstructured", "row", "block"])
@pytest.mark.parametrize("multiplier, strides", [(1, 1), (2, 2)])
def test_each_level_equals_a_masked_depthwise_conv1d(kind, multiplier, strides):
    config = {"kernel_size": 4, "depth_multiplier": multiplier, "strides": strides, "padding": "same"}
    layer = SubnetDepthwiseConv1D(**config, levels=LEVELS, mask_kind=kind)
    x = np.random.default_rng(0).normal(size=(2, 10, 5)).astype("float32")
    testing.assert_matches_masked_keras(layer, keras.layers.DepthwiseConv1D, config, x)


def test_rows_are_output_channels():
    layer = SubnetDepthwiseConv1D(3, depth_multiplier=2, levels=[0.5, 0.0], mask_kind="row")
    layer(np.zeros((1, 6, 4), "float32"))
    kernel = np.arange(3 * 4 * 2, dtype="float32").reshape(3, 4, 2)
    rows = layer._kernel_to_rows(kernel)
    assert rows.shape == (8, 3)
    assert rows[3, 2] == kernel[2, 1, 1]  # row o = ci * mult + m, column kx
    np.testing.assert_array_equal(layer._rows_to_kernel(rows), kernel)
    per_channel = (keras.ops.convert_to_numpy(layer.kernel_level) <= 0).sum(axis=0)
    assert np.all(per_channel == round(0.5 * 3))


def test_gradient_routing():
    layer = SubnetDepthwiseConv1D(3, levels=LEVELS, padding="same")
    testing.assert_gradient_routing(layer, np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32"))


def test_config_round_trip():
    testing.assert_config_round_trip(
        SubnetDepthwiseConv1D(3, levels=LEVELS, mask_kind="row", keep_row_max=False),
        levels=LEVELS, mask_kind="row", keep_row_max=False)
