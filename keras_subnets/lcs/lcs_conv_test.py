# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The rank-generic LCS convolutions: a 1-D layer is the 2-D layer of height 1, and saved names stay put."""

import keras
import numpy as np
import pytest

from keras_subnets import lcs


@pytest.mark.parametrize("compression, variant", [("structured", "point"), ("unstructured", "point"),
                                                  ("bits", "line")])  # fmt: skip
@pytest.mark.parametrize("depthwise", [False, True])
def test_a_1d_layer_is_the_2d_layer_of_height_one(compression, variant, depthwise):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 6)).astype("float32")
    args = {"compression": compression, "variant": variant, "structured_inputs": True}
    if depthwise:
        one = lcs.LcsDepthwiseConv1D(3, depth_multiplier=2, padding="same", **args)
        two = lcs.LcsDepthwiseConv2D((1, 3), depth_multiplier=2, padding="same", **args)
    else:
        one = lcs.LcsConv1D(5, 3, strides=2, padding="same", **args)
        two = lcs.LcsConv2D(5, (1, 3), strides=(1, 2), padding="same", **args)
    one(x), two(x[:, None])
    for a, b in zip(one.trainable_weights, two.trainable_weights, strict=True):
        value = rng.normal(size=tuple(a.shape)).astype("float32")
        a.assign(value)
        b.assign(value.reshape(tuple(b.shape)))
    for alpha in (0.0, 0.3, 1.0):
        with lcs.alpha_override(alpha):
            got, want = keras.ops.convert_to_numpy(one(x)), keras.ops.convert_to_numpy(two(x[:, None]))
        np.testing.assert_allclose(got, want[:, 0], rtol=1e-5, atol=1e-5, err_msg=f"alpha {alpha}")


@pytest.mark.parametrize("cls", [lcs.LcsConv1D, lcs.LcsConv2D, lcs.LcsDepthwiseConv1D, lcs.LcsDepthwiseConv2D])
def test_saved_files_name_the_same_class_and_module(cls):
    # A .keras file stores both; changing either would break the files users already saved.
    assert keras.saving.get_registered_name(cls) == f"keras_subnets>{cls.__name__}"
    snake = {"LcsConv1D": "lcs_conv1d", "LcsConv2D": "lcs_conv2d",
             "LcsDepthwiseConv1D": "lcs_depthwise_conv1d", "LcsDepthwiseConv2D": "lcs_depthwise_conv2d"}
    assert cls.__module__ == f"keras_subnets.lcs.{snake[cls.__name__]}"
