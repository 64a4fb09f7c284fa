# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_subnets.lcs import LcsConv2D, LcsDense, LcsDepthwiseConv2D, alpha_override
from keras_subnets.lcs.lcs_layer import cosine_squared, fake_quantize, keep_count_numpy

LAYERS = [
    (LcsDense, dict(units=6), (3, 10)),
    (LcsConv2D, dict(filters=6, kernel_size=3), (2, 5, 5, 4)),
    (LcsDepthwiseConv2D, dict(kernel_size=3, depth_multiplier=2), (2, 5, 5, 4)),
]


def _effective(layer, alpha):
    with alpha_override(alpha):
        kernel, bias = layer.effective_weights()
    return keras.ops.convert_to_numpy(kernel), bias


@pytest.mark.parametrize("cls, args, shape", LAYERS)
def test_point_masks_are_nested_top_k(cls, args, shape):
    layer = cls(**args, compression="unstructured")
    layer(np.zeros(shape, "float32"))
    w = np.abs(keras.ops.convert_to_numpy(layer.kernel))
    previous = None
    for alpha in (0.05, 0.2, 0.5, 0.8, 1.0):
        mask = _effective(layer, alpha)[0] != 0
        assert mask.sum() == keep_count_numpy(alpha, w.size)
        assert w[mask].min() >= w[~mask].max(initial=0.0)  # top-k by |w|
        if previous is not None:
            assert np.all(mask[previous]), f"α={alpha} drops a weight of a smaller α"
        previous = mask


def test_line_masks_move_with_alpha():
    layer = LcsDense(32, compression="unstructured", variant="line")
    layer(np.zeros((1, 32), "float32"))
    masks = [_effective(layer, a)[0] != 0 for a in (0.2, 0.3, 0.5)]
    assert any(np.any(small & ~large) for small, large in zip(masks, masks[1:], strict=False))


def test_line_interpolates_endpoints():
    layer = LcsDense(4, compression="bits", variant="line", max_bits=8, min_bits=8)
    layer(np.zeros((1, 3), "float32"))
    w0, w1 = (keras.ops.convert_to_numpy(v) for v in (layer.kernel, layer.kernel_end))
    got = _effective(layer, 0.25)[0]
    mid = 0.75 * w0 + 0.25 * w1
    np.testing.assert_allclose(got, mid, atol=np.abs(mid).max() / 127)


def test_cosine_regularizer_matches_numpy_and_is_a_layer_loss():
    layer = LcsDense(5, variant="line", regularization=0.7)
    layer(np.zeros((1, 4), "float32"))
    w0, w1 = (keras.ops.convert_to_numpy(v).ravel() for v in (layer.kernel, layer.kernel_end))
    expected = 0.7 * np.dot(w0, w1) ** 2 / (np.dot(w0, w0) * np.dot(w1, w1))
    assert float(layer.cosine_regularization()) == pytest.approx(expected, rel=1e-5)
    assert float(cosine_squared(np.ones(3), 2 * np.ones(3))) == pytest.approx(1.0)
    layer(np.zeros((1, 4), "float32"), training=True)
    assert len(layer.losses) == 1 and float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)


def test_straight_through_gradient_of_fake_quantization():
    w = tf.Variable(np.linspace(-1.0, 1.0, 50).astype("float32"))
    with tf.GradientTape() as tape:
        q = fake_quantize(w, 3)
        loss = tf.reduce_sum(q * tf.range(50, dtype="float32"))
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), np.arange(50))
    assert len(np.unique(q.numpy())) <= 2**3 - 1  # a symmetric 3-bit grid
    assert np.abs(q.numpy() - w.numpy()).max() <= 0.5 / 3 + 1e-6


@pytest.mark.parametrize("cls, args, shape", LAYERS)
def test_structured_keeps_a_prefix_of_units(cls, args, shape):
    layer = cls(**args, compression="structured", structured_inputs=True)
    layer(np.zeros(shape, "float32"))
    kernel, _ = _effective(layer, 0.0)
    # A quarter of the units (depthwise: of the channels) at α = 0.
    width = int(np.round(0.25 * (layer._units if cls is not LcsDepthwiseConv2D else shape[-1])))
    if cls is LcsDepthwiseConv2D:
        assert np.all(kernel[:, :, width:] == 0) and np.any(kernel[:, :, :width] != 0)
    else:
        assert np.all(kernel[..., width:] == 0) and np.all(kernel[..., width:, :] == 0)
        assert np.any(kernel[..., :width, :width] != 0)


@pytest.mark.parametrize("cls, args, shape", LAYERS)
def test_config_round_trip(cls, args, shape):
    layer = cls(**args, compression="bits", variant="line", min_bits=4, max_bits=7, regularization=0.5)
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.min_bits == 4 and clone.variant == "line"


@pytest.mark.parametrize("kwargs, match", [
    (dict(compression="sparse"), "compression"),
    (dict(variant="plane"), "variant"),
    (dict(min_bits=2), "min_bits"),
    (dict(max_bits=16), "max_bits"),
    (dict(regularization=-1.0), "regularization"),
])
def test_bad_arguments_name_the_layer(kwargs, match):
    with pytest.raises(ValueError, match=f"'bad'.*{match}|{match}.*'bad'|layer 'bad'"):
        LcsDense(3, name="bad", **kwargs)
