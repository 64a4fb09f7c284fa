# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""What `SubnetLayerMixin` gives every nested layer: mask updates, structured prefixes, the active
level, gradient scaling and costs, checked on `SubnetDense` against numpy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_subnets import levels as levels_lib
from keras_subnets.layers import SubnetDense


def _np(v):
    return keras.ops.convert_to_numpy(v)


def _dense(units=4, inputs=8, **kwargs):
    layer = SubnetDense(units, **kwargs)
    layer(np.zeros((1, inputs), "float32"))
    return layer


def _top(magnitude, count):
    """Boolean mask of the ``count`` largest entries (distinct magnitudes)."""
    threshold = np.sort(magnitude.ravel())[::-1][count - 1]
    return magnitude >= threshold


def test_update_masks_ranks_the_current_weights_with_the_given_sparsities():
    layer = _dense(levels=[0.75, 0.5, 0.0], keep_row_max=False)
    rng = np.random.default_rng(0)
    kernel = rng.permutation(np.arange(1, 33, dtype="float32")).reshape(8, 4) * rng.choice([-1, 1], (8, 4))
    layer.kernel.assign(kernel)
    layer.update_masks()
    masks = layer.level_masks()
    assert masks.shape == (3, 8, 4)
    for k, keep in enumerate((8, 16, 32)):
        np.testing.assert_array_equal(masks[k], _top(np.abs(kernel), keep), err_msg=f"level {k}")
    # A schedule's current sparsities, on weights that moved since.
    layer.kernel.assign(-kernel[::-1])
    layer.update_masks([0.5, 0.25, 0.0])
    for k, keep in enumerate((16, 24, 32)):
        np.testing.assert_array_equal(layer.level_masks()[k], _top(np.abs(kernel[::-1]), keep))
    with pytest.raises(ValueError, match="layer 'wrong': got 2 sparsities for 3 levels"):
        _dense(levels=[0.75, 0.5, 0.0], name="wrong").update_masks([0.5, 0.0])


def test_structured_layers_keep_their_widths_when_masks_are_updated():
    layer = _dense(6, 5, levels=[0.6, 0.3, 0.0], mask_kind="structured", level_widths=[2, 4, 6])
    before = _np(layer.kernel_level).copy()
    layer.kernel.assign(np.random.default_rng(1).normal(size=(5, 6)).astype("float32"))
    layer.update_masks([0.9, 0.5, 0.0])
    np.testing.assert_array_equal(_np(layer.kernel_level), before)
    np.testing.assert_array_equal(_np(layer.unit_level), [0, 0, 1, 1, 2, 2])


def test_a_weight_joins_the_later_level_of_its_input_and_its_unit():
    layer = _dense(6, 5, levels=[0.6, 0.3, 0.0], mask_kind="structured", name="s")
    inputs = np.array([0, 2, 0, 1, 1])
    layer.set_structured_levels([2, 4, 6], input_levels=inputs)
    units = np.array([0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(_np(layer.kernel_level), np.maximum(inputs[:, None], units[None, :]))
    assert layer.level_widths == [2, 4, 6]
    # Units that are not a prefix (a depthwise layer after a concatenation).
    spread = np.array([1, 0, 2, 0, 1, 2])
    layer.set_structured_levels([2, 4, 6], unit_levels=spread)
    np.testing.assert_array_equal(_np(layer.kernel_level), np.broadcast_to(spread, (5, 6)))
    with pytest.raises(ValueError, match=r"layer 's': unit levels keep \[2, 4, 6\] units, widths say \[3, 4, 6\]"):
        layer.set_structured_levels([3, 4, 6], unit_levels=spread)
    with pytest.raises(ValueError, match="layer 's': "):
        layer.set_structured_levels([4, 2, 6])


def test_the_active_level_selects_the_masked_weights():
    layer = _dense(levels=[0.75, 0.5, 0.0])
    x = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    layer.bias.assign(np.arange(4, dtype="float32"))
    kernel, masks = _np(layer.kernel), layer.level_masks()
    assert int(_np(layer.active_level)) == 2  # the densest level by default
    outputs = []
    for k in range(3):
        layer.active_level.assign(k)
        outputs.append(_np(layer(x)))
        np.testing.assert_allclose(outputs[-1], x @ (kernel * masks[k]) + np.arange(4), rtol=1e-5, atol=1e-5)
    assert not np.allclose(outputs[0], outputs[2])
    with levels_lib.level_override(1):  # an override wins over the active level
        np.testing.assert_allclose(_np(layer(x)), outputs[1], rtol=1e-6)


def _kernel_gradient(layer, x, level, scale, shared=1.0):
    with tf.GradientTape() as tape, levels_lib.level_override(level), levels_lib.inner_gradient(scale, shared):
        loss = tf.reduce_sum(layer(x))
    return tape.gradient(loss, layer.kernel).numpy()


def test_inner_gradient_scales_only_the_smaller_levels_weights():
    layer = _dense(levels=[0.75, 0.5, 0.0])
    x = np.random.default_rng(3).normal(size=(5, 8)).astype("float32")
    assignment = _np(layer.kernel_level)
    plain = np.broadcast_to(x.sum(axis=0)[:, None], (8, 4))  # d(sum(x @ W)) / dW
    for k in range(3):
        want = plain * (assignment <= k) * np.where(assignment < k, 0.25, 1.0)
        np.testing.assert_allclose(_kernel_gradient(layer, x, k, 0.25), want, rtol=1e-5, atol=1e-6)
    # Every weight in level 0 (a layer kept dense): the level's loss gives it `shared` instead.
    layer.kernel_level.assign(np.zeros((8, 4), "int32"))
    np.testing.assert_allclose(_kernel_gradient(layer, x, 2, 0.25, shared=0.5), 0.5 * plain, rtol=1e-5)


def test_costs_count_the_levels_weights_and_active_biases():
    layer = _dense(6, 5, levels=[0.6, 0.0], mask_kind="structured", level_widths=[2, 6], name="c")
    assert [layer.level_nonzeros(k) for k in range(2)] == [5 * 2 + 2, 5 * 6 + 6]
    assert [layer.level_macs(k) for k in range(2)] == [10, 30]
    unstructured = _dense(6, 5, levels=[0.6, 0.0])
    kept = int(unstructured.level_masks()[0].sum())
    assert unstructured.level_nonzeros(0) == kept + 6  # a non-structured layer keeps every bias
    with pytest.raises(ValueError, match=r"layer 'c': level -1 is out of range; it has 2 levels \(0..1\)"):
        layer.level_nonzeros(-1)
