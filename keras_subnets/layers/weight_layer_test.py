# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The shared weight-layer call against the Keras layer it replaces, with the pass's weights given to Keras."""

import keras
import numpy as np
import pytest

from keras_subnets.layers.weight_layer import (
    ConvOperation,
    DenseOperation,
    DepthwiseConvOperation,
    WeightLayerMixin,
)


def _doubled(parent, operation):
    """A layer whose pass uses twice its kernel (a stand-in for a level's or an α's weights)."""

    class Doubled(WeightLayerMixin, operation, parent):
        def _pass_weights(self, training):
            return self.kernel * 2.0, self.bias if self.use_bias else None

    return Doubled


CASES = [
    (keras.layers.Dense, DenseOperation, dict(units=5, activation="relu"), (3, 7), 5),
    (keras.layers.Conv1D, ConvOperation, dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2),
     (2, 9, 3), 4),
    (keras.layers.Conv2D, ConvOperation, dict(filters=4, kernel_size=3, strides=2, padding="same",
                                              activation="tanh"), (2, 7, 7, 3), 4),
    (keras.layers.DepthwiseConv2D, DepthwiseConvOperation, dict(kernel_size=3, depth_multiplier=2,
                                                                 padding="valid", use_bias=False), (2, 6, 6, 3), 6),
]


@pytest.mark.parametrize("parent, operation, config, shape, units", CASES)
def test_the_pass_weights_go_through_the_keras_operation_bias_and_activation(parent, operation, config, shape,
                                                                             units):
    rng = np.random.default_rng(0)
    layer = _doubled(parent, operation)(**config)
    layer.build(shape)
    weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    plain = parent(**config)
    plain.build(shape)
    plain.set_weights([weights[0] * 2.0] + weights[1:])
    x = rng.normal(size=shape).astype("float32")
    np.testing.assert_allclose(layer(x), plain(x), rtol=1e-5, atol=1e-5)
    assert layer._units == units
    assert set(layer._weight_variables()) == ({"kernel", "bias"} if layer.use_bias else {"kernel"})


def test_unsupported_layouts_are_named():
    layer = _doubled(keras.layers.Conv2D, ConvOperation)(4, 3, groups=2)
    with pytest.raises(ValueError, match=r"layer 'g': grouped convolution \(groups=2\) is not supported"):
        layer._check_layer_arguments("g")
    layer = _doubled(keras.layers.Conv2D, ConvOperation)(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="layer 'cf': only data_format='channels_last' is supported"):
        layer._check_layer_arguments("cf")
