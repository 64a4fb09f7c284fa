# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import testing
from keras_subnets.layers import SubnetDense

LEVELS = [0.9, 0.6, 0.0]


@pytest.mark.parametrize("kind", ["unstructured", "row", "block"])
def test_each_level_equals_a_masked_dense_layer(kind):
    layer = SubnetDense(7, activation="relu", levels=LEVELS, mask_kind=kind)
    x = np.random.default_rng(0).normal(size=(5, 13)).astype("float32")
    testing.assert_matches_masked_keras(layer, keras.layers.Dense, {"units": 7, "activation": "relu"}, x)
    masks = layer.level_masks()
    assert masks[0].sum() < masks[1].sum() < masks[2].sum() == 13 * 7


def test_structured_keeps_a_prefix_of_neurons_and_masks_their_bias():
    layer = SubnetDense(6, levels=LEVELS, mask_kind="structured", level_widths=[2, 4, 6])
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    layer(x)
    layer.bias.assign(np.arange(1, 7, dtype="float32"))
    testing.assert_matches_masked_keras(layer, keras.layers.Dense, {"units": 6}, x)
    from keras_subnets.levels import level_override

    with level_override(0):
        out = keras.ops.convert_to_numpy(layer(x))
    assert np.all(out[:, 2:] == 0.0)


def test_gradient_routing():
    layer = SubnetDense(4, levels=LEVELS)
    testing.assert_gradient_routing(layer, np.random.default_rng(2).normal(size=(8, 10)).astype("float32"))


def test_config_round_trip_and_bad_arguments():
    testing.assert_config_round_trip(
        SubnetDense(3, levels=LEVELS, mask_kind="row", keep_row_max=False),
        levels=LEVELS, mask_kind="row", keep_row_max=False)
    testing.assert_config_round_trip(
        SubnetDense(3, levels=LEVELS, mask_kind="structured", level_widths=[1, 2, 3]),
        level_widths=[1, 2, 3])
    with pytest.raises(ValueError, match="unknown mask_kind"):
        SubnetDense(3, levels=LEVELS, mask_kind="diagonal")
    with pytest.raises(ValueError, match="level_widths has 2 entries"):
        SubnetDense(3, levels=LEVELS, mask_kind="structured", level_widths=[1, 3])
    with pytest.raises(ValueError, match="sparsest first"):
        SubnetDense(3, levels=[0.0, 0.5])


def test_costs_count_the_level():
    layer = SubnetDense(4, levels=[0.5, 0.0], use_bias=False)
    layer(np.zeros((1, 3, 10), "float32"))  # a sequence of 3 positions
    assert layer.level_nonzeros(0) == 20
    assert layer.level_macs(0) == 60
    with pytest.raises(ValueError, match="level 2 is out of range"):
        layer.level_macs(2)
