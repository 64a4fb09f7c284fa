# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.layers import SubnetConv2D

LEVELS = [0.8, 0.5, 0.0]


@pytest.mark.parametrize("kind", ["unstructured", "row", "block"])
@pytest.mark.parametrize("strides, padding, dilation", [(1, "same", 1), (2, "valid", 1), (1, "same", 2)])
def test_each_level_equals_a_masked_conv(kind, strides, padding, dilation):
    config = {"filters": 5, "kernel_size": 3, "strides": strides, "padding": padding,
              "dilation_rate": dilation}
    layer = SubnetConv2D(**config, levels=LEVELS, mask_kind=kind)
    x = np.random.default_rng(0).normal(size=(2, 9, 9, 4)).astype("float32")
    testing.assert_matches_masked_keras(layer, keras.layers.Conv2D, config, x)


def test_block_pairs_are_neighbouring_input_channels():
    layer = SubnetConv2D(3, 3, levels=LEVELS, mask_kind="block")
    layer(np.zeros((1, 5, 5, 6), "float32"))
    assign = keras.ops.convert_to_numpy(layer.kernel_level)
    assert np.array_equal(assign[:, :, 0::2, :], assign[:, :, 1::2, :])


def test_gradient_routing():
    layer = SubnetConv2D(4, 3, levels=LEVELS, padding="same")
    testing.assert_gradient_routing(layer, np.random.default_rng(1).normal(size=(2, 6, 6, 3)).astype("float32"))


def test_macs_use_output_positions():
    layer = SubnetConv2D(8, 3, strides=2, padding="same", levels=[0.0], use_bias=False)
    layer(np.zeros((1, 16, 16, 4), "float32"))
    assert layer.level_macs(0) == 8 * 3 * 3 * 4 * 8 * 8


def test_config_round_trip_and_unsupported_options():
    testing.assert_config_round_trip(
        SubnetConv2D(3, 3, levels=LEVELS, mask_kind="block", keep_row_max=False),
        levels=LEVELS, mask_kind="block", keep_row_max=False)
    with pytest.raises(ValueError, match="channels_last"):
        SubnetConv2D(3, 3, levels=LEVELS, data_format="channels_first")
    with pytest.raises(ValueError, match="grouped"):
        SubnetConv2D(4, 3, levels=LEVELS, groups=2)
