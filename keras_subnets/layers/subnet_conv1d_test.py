# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.layers import SubnetConv1D

LEVELS = [0.8, 0.5, 0.0]


@pytest.mark.parametrize("kind", ["unstructured", "row", "block", "structured"])
@pytest.mark.parametrize("strides, padding, dilation", [(1, "same", 1), (2, "valid", 1), (1, "causal", 2)])
def test_each_level_equals_a_masked_conv1d(kind, strides, padding, dilation):
    config = {"filters": 5, "kernel_size": 3, "strides": strides, "padding": padding,
              "dilation_rate": dilation}
    widths = [2, 3, 5] if kind == "structured" else None
    layer = SubnetConv1D(**config, levels=LEVELS, mask_kind=kind, level_widths=widths)
    x = np.random.default_rng(0).normal(size=(2, 11, 4)).astype("float32")
    testing.assert_matches_masked_keras(layer, keras.layers.Conv1D, config, x)


def test_rows_are_tflite_ohwi_with_height_one():
    layer = SubnetConv1D(3, 2, levels=LEVELS, mask_kind="block")
    layer(np.zeros((1, 7, 4), "float32"))
    kernel = np.arange(2 * 4 * 3, dtype="float32").reshape(2, 4, 3)
    rows = layer._kernel_to_rows(kernel)
    assert rows.shape == (3, 8)
    assert rows[2, 1 * 4 + 3] == kernel[1, 3, 2]  # rows[o, kx * cin + ci]
    np.testing.assert_array_equal(layer._rows_to_kernel(rows), kernel)
    assign = keras.ops.convert_to_numpy(layer.kernel_level)
    assert np.array_equal(assign[:, 0::2, :], assign[:, 1::2, :])  # block pairs: neighbouring channels


def test_gradient_routing_and_macs():
    layer = SubnetConv1D(4, 3, levels=LEVELS, padding="same")
    testing.assert_gradient_routing(layer, np.random.default_rng(1).normal(size=(2, 9, 3)).astype("float32"))
    dense = SubnetConv1D(8, 3, strides=2, padding="same", levels=[0.0], use_bias=False)
    dense(np.zeros((1, 16, 4), "float32"))
    assert dense.level_macs(0) == 8 * 3 * 4 * 8


def test_config_round_trip_and_unsupported_options():
    testing.assert_config_round_trip(
        SubnetConv1D(3, 3, levels=LEVELS, mask_kind="row", keep_row_max=False),
        levels=LEVELS, mask_kind="row", keep_row_max=False)
    with pytest.raises(ValueError, match="channels_last"):
        SubnetConv1D(3, 3, levels=LEVELS, data_format="channels_first")
    with pytest.raises(ValueError, match="grouped"):
        SubnetConv1D(4, 3, levels=LEVELS, groups=2)
