# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Structured planning checked on the layers' masks, counted in numpy."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import structured

SPARSITIES = [0.8, 0.5, 0.0]


def _branchy():
    """A residual pair tied by an add, concatenated with a third conv, then depthwise (x2) and pointwise."""
    inputs = keras.Input((6, 6, 3))
    a = keras.layers.Conv2D(16, 1, name="a")(inputs)
    b = keras.layers.Conv2D(16, 1, name="b")(a)
    x = keras.layers.Add()([a, b])
    c = keras.layers.Conv2D(8, 3, padding="same", name="c")(inputs)
    x = keras.layers.Concatenate()([x, c])
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = keras.layers.Conv2D(12, 1, name="d")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="head")(x))


@pytest.fixture(scope="module")
def nested():
    return ks.nest(_branchy(), SPARSITIES, kind="structured")


def _kept(model, level):
    layers = [model.get_layer(n) for n in ("a", "b", "c", "dw", "d", "head")]
    return sum(int(la.level_masks()[level].sum()) for la in layers), sum(int(np.prod(la.kernel.shape))
                                                                         for la in layers)


def test_each_level_keeps_its_share_of_the_kernel_weights(nested):
    plan = structured.plan_structured(nested, SPARSITIES)
    for k, s in enumerate(SPARSITIES):
        kept, total = _kept(nested, k)
        assert (1 - s) <= kept / total <= (1 - s) + 0.05, (k, kept / total)
    assert plan["head"] == [4, 4, 4]  # reaches the output: every unit
    assert plan["a"] == plan["b"]  # tied by the add
    assert plan["a"][-1] == 16 and plan["a"][0] < plan["a"][1] < 16


def test_masks_are_prefixes_and_the_depthwise_layer_follows_each_member_at_its_offset(nested):
    plan = structured.plan_structured(nested, SPARSITIES)
    dw = nested.get_layer("dw").level_masks()  # (levels, 3, 3, 24 channels, 2)
    d = nested.get_layer("d").level_masks()  # (levels, 1, 1, 48, 12)
    for k in range(len(SPARSITIES)):
        w_add, w_c = plan["a"][k], plan["c"][k]
        channels = np.zeros(24, bool)
        channels[:w_add] = True
        channels[16:16 + w_c] = True
        np.testing.assert_array_equal(dw[k].any(axis=(0, 1, 3)), channels)
        assert plan["dw"][k] == 2 * (w_add + w_c)
        expected = np.zeros((48, 12), bool)
        expected[np.repeat(channels, 2), :plan["d"][k]] = True
        np.testing.assert_array_equal(d[k][0, 0], expected)
        a = nested.get_layer("a").level_masks()[k][0, 0]
        np.testing.assert_array_equal(a, np.arange(16)[None, :].repeat(3, 0) < w_add)


def test_explicit_widths_are_applied_to_the_whole_group(nested):
    plan = structured.plan_structured(nested, SPARSITIES, {"b": [2, 8, 16], "c": [1, 4, 8]})
    assert plan["a"] == plan["b"] == [2, 8, 16] and plan["c"] == [1, 4, 8]
    assert plan["dw"] == [6, 24, 48]


@pytest.mark.parametrize("widths, message", [
    ({"nope": [1, 2, 3]}, r"unknown or non-structured layers: \['nope'\]"),
    ({"a": [1, 2]}, r"widths\['a'\] has 2 entries for 3 levels"),
    ({"a": [2, 8, 16], "b": [4, 8, 16]}, r"disagrees with \[2, 8, 16\] given for the same channel group"),
    ({"head": [2, 3, 4]}, r"channel group 'head' keeps every channel \(reaches the model output"),
    ({"dw": [3, 8, 48]}, r"'dw' reads 2 concatenated groups"),
])
def test_bad_explicit_widths_are_named(nested, widths, message):
    with pytest.raises(ValueError, match=message):
        structured.plan_structured(nested, SPARSITIES, widths)


def test_a_depthwise_width_is_a_multiple_of_its_multiplier():
    # A depthwise layer's given width counts its input channels: after a depthwise layer with multiplier 2,
    # each of the group's units is 2 of them.
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(8, 1, name="a")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw1")(x)
    x = keras.layers.DepthwiseConv2D(1, name="dw2")(x)
    model = ks.nest(keras.Model(inputs, keras.layers.Conv2D(2, 1, name="out")(x)), SPARSITIES, kind="structured")
    with pytest.raises(ValueError, match="multiple of its depth multiplier 2, got \\[3, 8, 16\\]"):
        structured.plan_structured(model, SPARSITIES, {"dw2": [3, 8, 16]})
    plan = structured.plan_structured(model, SPARSITIES, {"dw2": [4, 8, 16]})
    assert plan["a"] == [2, 4, 8] and plan["dw1"] == plan["dw2"] == [4, 8, 16]
