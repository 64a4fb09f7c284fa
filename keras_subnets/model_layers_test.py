# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Tests of model_layers."""

import keras

from keras_subnets.model_layers import model_layers


def _model():
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, keras.layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    inputs = keras.Input((4,))
    x = keras.layers.Dense(4, name="first")(inputs)
    x = inner(x)
    x = keras.layers.ReLU(name="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="last")(x))


def test_every_layer_in_order_with_nested_models_flattened():
    names = [layer.name for layer in model_layers(_model())]
    assert names.index("first") < names.index("inner_dense") < names.index("last")
    assert "relu" in names and "inner" in names


def test_filters_by_class_tuple_and_predicate():
    model = _model()
    assert [la.name for la in model_layers(model, keras.layers.Dense)] == ["first", "inner_dense", "last"]
    assert {la.name for la in model_layers(model, (keras.layers.ReLU, keras.layers.Dense))} == {
        "first", "inner_dense", "relu", "last"}
    assert [la.name for la in model_layers(model, lambda la: la.name.startswith("l"))] == ["last"]


def test_require_built_names_the_caller_and_functional_io_keeps_the_structure():
    import pytest

    from keras_subnets.model_layers import functional_io, require_built

    with pytest.raises(ValueError, match=r"^nest\(\) needs a built"):
        require_built(keras.Sequential([keras.layers.Dense(2)]), "nest()")
    with pytest.raises(ValueError, match="subspace"):
        require_built("not a model", "subspace()")
    x = keras.Input((3,))
    lone = keras.Model(x, keras.layers.Dense(2)(x))
    require_built(lone, "nest()")
    inputs, outputs = functional_io(lone)
    assert inputs is lone.input and outputs is lone.output and not isinstance(inputs, list)
    seq = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    inputs, outputs = functional_io(seq)
    assert isinstance(inputs, list) and isinstance(outputs, list)
