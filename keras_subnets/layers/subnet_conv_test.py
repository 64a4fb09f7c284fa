# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The rank-generic convolutions: a 1-D layer is the 2-D layer of height 1, and saved names stay put."""

import keras
import numpy as np
import pytest

from keras_subnets import levels as levels_lib
from keras_subnets.layers import SubnetConv1D, SubnetConv2D, SubnetDepthwiseConv1D, SubnetDepthwiseConv2D

LEVELS = [0.7, 0.4, 0.0]


@pytest.mark.parametrize("kind", ["unstructured", "row", "block"])
@pytest.mark.parametrize("depthwise", [False, True])
def test_a_1d_layer_is_the_2d_layer_of_height_one(kind, depthwise):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 4)).astype("float32")
    if depthwise:
        one = SubnetDepthwiseConv1D(3, depth_multiplier=2, padding="same", levels=LEVELS, mask_kind=kind)
        two = SubnetDepthwiseConv2D((1, 3), depth_multiplier=2, padding="same", levels=LEVELS, mask_kind=kind)
    else:
        one = SubnetConv1D(5, 3, strides=2, padding="same", levels=LEVELS, mask_kind=kind)
        two = SubnetConv2D(5, (1, 3), strides=(1, 2), padding="same", levels=LEVELS, mask_kind=kind)
    one(x), two(x[:, None])
    kernel = rng.normal(size=tuple(one.kernel.shape)).astype("float32")
    one.kernel.assign(kernel)
    two.kernel.assign(kernel[None])
    one.bias.assign(rng.normal(size=one.bias.shape).astype("float32"))
    two.bias.assign(keras.ops.convert_to_numpy(one.bias))
    one.update_masks(), two.update_masks()
    np.testing.assert_array_equal(one._kernel_to_rows(kernel), two._kernel_to_rows(kernel[None]))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(one.kernel_level)[None],
                                  keras.ops.convert_to_numpy(two.kernel_level))
    for k in range(len(LEVELS)):
        assert one.level_macs(k) == two.level_macs(k)
        with levels_lib.level_override(k):
            got, want = keras.ops.convert_to_numpy(one(x)), keras.ops.convert_to_numpy(two(x[:, None]))
        np.testing.assert_allclose(got, want[:, 0], rtol=1e-5, atol=1e-5, err_msg=f"level {k}")


@pytest.mark.parametrize("cls", [SubnetConv1D, SubnetConv2D, SubnetDepthwiseConv1D, SubnetDepthwiseConv2D])
def test_saved_files_name_the_same_class_and_module(cls):
    # A .keras file stores both; changing either would break the files users already saved.
    assert keras.saving.get_registered_name(cls) == f"keras_subnets>{cls.__name__}"
    snake = {"SubnetConv1D": "subnet_conv1d", "SubnetConv2D": "subnet_conv2d",
             "SubnetDepthwiseConv1D": "subnet_depthwise_conv1d", "SubnetDepthwiseConv2D": "subnet_depthwise_conv2d"}
    assert cls.__module__ == f"keras_subnets.layers.{snake[cls.__name__]}"
