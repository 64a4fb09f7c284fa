# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The LCS tests' tiny model and data are what their docstrings promise."""

import keras
import numpy as np

from keras_subnets import lcs
from keras_subnets.lcs.testing import tiny_cnn, tiny_data


def test_tiny_cnn_holds_every_layer_kind_lcs_converts():
    model = tiny_cnn()
    assert tuple(model.input_shape) == (None, 8, 8, 2) and tuple(model.output_shape) == (None, 5)
    x, _ = tiny_data(4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)).sum(axis=1), 1.0, rtol=1e-5)  # softmax
    subspace = lcs.subspace(model, kind="structured", norm="batch_per_level")
    types = {type(layer).__name__ for layer in subspace.layers}
    assert {"LcsConv2D", "LcsDepthwiseConv2D", "LcsDense", "LcsBatchNormalization"} <= types


def test_the_flatten_variant_tiles_the_classifier_input():
    model = tiny_cnn("flat", flatten=True)
    assert model.name == "flat"
    names = [layer.name for layer in model.layers]
    assert names[-3:] == ["pool", "flatten", "classifier"]
    assert isinstance(model.get_layer("pool"), keras.layers.MaxPooling2D)
    assert model.get_layer("classifier").kernel.shape == (2 * 2 * 12, 5)  # 4x4 -> 2x2 positions of 12 channels
    assert isinstance(tiny_cnn().get_layer("pool"), keras.layers.GlobalAveragePooling2D)


def test_tiny_data_is_deterministic_in_its_seed():
    x, y = tiny_data(16, seed=2)
    assert x.shape == (16, 8, 8, 2) and x.dtype == np.float32 and y.shape == (16,)
    assert y.min() >= 0 and y.max() < 5
    again_x, again_y = tiny_data(16, seed=2)
    np.testing.assert_array_equal(x, again_x)
    np.testing.assert_array_equal(y, again_y)
    assert not np.array_equal(tiny_data(16, seed=3)[0], x)
