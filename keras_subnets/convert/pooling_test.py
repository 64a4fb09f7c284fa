# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.export import plain_model
from keras_subnets.convert.pooling import GlobalAveragePoolingAsPool, as_average_pool, with_average_pool
from keras_subnets.convert.tf_convert import tf_convert
from keras_subnets.zoo import quickstart_cnn


def _ops(blob: bytes) -> set[str]:
    model = fb.load(blob)
    return {fb.op_name(model, op) for op in model.subgraphs[0].operators}


@pytest.mark.parametrize("keepdims", [False, True])
def test_same_outputs_as_global_average_pooling(keepdims):
    inputs = keras.Input((5, 7, 3))
    outputs = keras.layers.GlobalAveragePooling2D(keepdims=keepdims)(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, outputs)
    copy = with_average_pool(model)
    assert any(isinstance(la, GlobalAveragePoolingAsPool) for la in copy.layers)
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 3)).astype("float32")
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_only_static_channels_last_2d_pooling_is_replaced():
    assert as_average_pool(keras.layers.Flatten()) is None
    dynamic = keras.layers.GlobalAveragePooling2D()
    dynamic(keras.Input((None, None, 3)))
    assert as_average_pool(dynamic) is None
    one_d = keras.layers.GlobalAveragePooling1D()
    one_d(keras.Input((8, 3)))
    assert as_average_pool(one_d) is None


def test_plain_model_converts_to_average_pool_not_mean():
    model = ks.nest(quickstart_cnn(), levels=[0.5, 0.0], kind="unstructured")
    ops = _ops(tf_convert(plain_model(model, 1), None))
    assert "AVERAGE_POOL_2D" in ops and "MEAN" not in ops
    assert "MEAN" in _ops(tf_convert(plain_model(model, 1, average_pool=False), None))
    x = np.random.default_rng(1).normal(size=(3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(plain_model(model, 1).predict(x, verbose=0),
                               plain_model(model, 1, average_pool=False).predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_layer_round_trips_through_config():
    layer = GlobalAveragePoolingAsPool((7, 7), keepdims=True, name="pool")
    again = GlobalAveragePoolingAsPool.from_config(layer.get_config())
    assert again.pool_size == (7, 7) and again.keepdims and again.name == "pool"
