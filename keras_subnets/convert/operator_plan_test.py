# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Finding each sub-network layer's TFLite operator, and what the KS operator cannot carry."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert import convert
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.errors import ConversionError
from keras_subnets.convert.export import plain_model
from keras_subnets.convert.operator_plan import match_ops
from keras_subnets.convert.tf_convert import tf_convert

LEVELS = [0.5, 0.0]


def _mlp(activation=None) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,))
    x = keras.layers.Dense(5, activation=activation, name="first")(inputs)
    x = keras.layers.Dense(5, name="second")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="classifier")(x))


def test_each_layer_gets_its_own_operator_in_graph_order():
    model = ks.nest(_mlp(), LEVELS, kind="unstructured")
    tfl = fb.load(tf_convert(plain_model(model, len(LEVELS) - 1), None))
    layers = [model.get_layer(name) for name in ("first", "second", "classifier")]
    mapping = match_ops(tfl, layers)
    sg = tfl.subgraphs[0]
    # first and second have the same kind and weight shape: the graph order tells them apart
    assert [layer.name for _, layer in sorted(mapping.items())] == ["first", "second", "classifier"]
    for index, layer in mapping.items():
        op = sg.operators[index]
        assert fb.op_name(tfl, op) == "FULLY_CONNECTED"
        weights = fb.tensor_data(tfl, sg.tensors[op.inputs[1]])
        np.testing.assert_allclose(weights, np.asarray(layer.kernel).T * (np.asarray(layer.kernel_level) <= 1).T)


def test_a_layer_without_its_operator_is_named():
    model = ks.nest(_mlp(), LEVELS, kind="unstructured")
    tfl = fb.load(tf_convert(plain_model(model, len(LEVELS) - 1), None))
    stranger = ks.SubnetDense(7, levels=LEVELS, name="stranger")
    stranger.build((None, 5))
    with pytest.raises(ConversionError, match=r"layer 'stranger': no fully_connected operator with weights \(7, 5\)"):
        match_ops(tfl, [stranger])


def test_a_constant_tensorflow_folded_into_the_bias_is_refused_by_name():
    # hard_sigmoid(x) = relu6(x + 3) / 6: TensorFlow folds the + 3 into the layer's bias.
    model = ks.nest(_mlp(activation="hard_sigmoid"), LEVELS, kind="unstructured")
    with pytest.raises(ConversionError, match="layer 'first': TensorFlow's converter folded an operation"):
        convert(model, quantize="float32", progress=False)
    convert(ks.nest(_mlp(activation="sigmoid"), LEVELS, kind="unstructured"), quantize="float32", progress=False)
