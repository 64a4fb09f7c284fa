# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import registry
from keras_subnets.layers import SubnetConv2D, SubnetDepthwiseConv1D

L = keras.layers

# One built plain layer per weight-layer entry, on an input of (spatial..., 6 channels).
_EXAMPLES = {
    L.Dense: (lambda: L.Dense(5), (6,)),
    L.Conv2D: (lambda: L.Conv2D(5, (3, 2)), (7, 7, 6)),
    L.DepthwiseConv2D: (lambda: L.DepthwiseConv2D((3, 2), depth_multiplier=2), (7, 7, 6)),
    L.Conv1D: (lambda: L.Conv1D(5, 3), (9, 6)),
    L.DepthwiseConv1D: (lambda: L.DepthwiseConv1D(3, depth_multiplier=2), (9, 6)),
}


def _built(cls):
    make, shape = _EXAMPLES[cls]
    layer = make()
    layer.build((None, *shape))
    return layer


def test_every_weight_layer_entry_describes_its_keras_layer():
    assert set(_EXAMPLES) == set(registry.WEIGHT_CLASSES)
    for spec in registry.WEIGHT_LAYERS:
        layer = _built(spec.keras_class)
        shape = tuple(layer.kernel.shape)
        assert len(spec.layout) == len(shape), spec.name
        assert issubclass(spec.subnet_class, spec.keras_class)
        assert spec.in_channels(shape) == 6
        expected_units = 12 if spec.depthwise else 5
        assert spec.units(shape) == expected_units, spec.name
        assert spec.depthwise == (spec.operator == "depthwise_conv_2d")
        window = {"Dense": (1, 1), "Conv2D": (3, 2), "DepthwiseConv2D": (3, 2)}.get(spec.name, (1, 3))
        assert spec.window(shape) == window and spec.taps(shape) == window[0] * window[1]
        assert spec.operator in registry.OPERATORS
        lcs = spec.lcs()
        assert lcs is None or issubclass(lcs, spec.keras_class)
        # The sub-network version's rows are the kernel's units x (taps * inputs) (docs/format.md §2).
        subnet = spec.subnet_class.from_config({**layer.get_config(), "levels": [0.5, 0.0]})
        subnet.build((None, *_EXAMPLES[spec.keras_class][1]))
        rows = subnet._kernel_to_rows(np.zeros(shape))
        assert rows.shape[0] == expected_units
        assert rows.shape[1] == spec.taps(shape) * (1 if spec.depthwise else 6)


def test_tflite_weight_shapes_match_tensorflows_converter():
    """The registry's layout against the weight tensors TensorFlow's converter writes."""
    from keras_subnets.convert import flatbuffer as fb
    from keras_subnets.convert.tf_convert import tf_convert

    inputs = keras.Input((9, 6))
    one_d = [L.Conv1D(5, 3, name="c1"), L.DepthwiseConv1D(2, depth_multiplier=2, name="d1")]
    x = one_d[1](one_d[0](inputs))
    x = L.Reshape((1, 6, 10))(x)
    two_d = [L.Conv2D(4, (1, 3), name="c2"), L.DepthwiseConv2D((1, 2), depth_multiplier=3, name="d2")]
    x = two_d[1](two_d[0](x))
    dense = L.Dense(3, name="fc")
    outputs = dense(L.Flatten()(x))
    tfl = fb.load(tf_convert(keras.Model(inputs, outputs), None))
    sg = tfl.subgraphs[0]
    got = [tuple(int(d) for d in sg.tensors[op.inputs[1]].shape) for op in sg.operators
           if fb.op_name(tfl, op) in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    ops = [fb.op_name(tfl, op).lower() for op in sg.operators
           if fb.op_name(tfl, op) in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    layers = [*one_d, *two_d, dense]
    assert ops == [registry.operator(la) for la in layers]
    assert got == [registry.lookup(la).tflite_weight_shape(la.kernel.shape) for la in layers]


def test_lookup_is_exact_for_nest_and_follows_subclasses_for_the_graph():
    class MyConv(L.Conv2D):
        pass

    assert registry.lookup(L.Conv2D) is registry.lookup(SubnetConv2D, exact=False)
    assert registry.lookup(MyConv) is None
    assert registry.lookup(MyConv, exact=False).name == "Conv2D"
    assert registry.subnet_class(L.Conv1D(2, 2)).__name__ == "SubnetConv1D"
    assert registry.lcs_class(L.Dense(2)).__name__ == "LcsDense"
    assert registry.lcs_class(L.Conv1D(2, 2)).__name__ == "LcsConv1D"
    assert registry.lcs_class(L.LSTM(2)) is None
    assert registry.is_depthwise(SubnetDepthwiseConv1D(3, levels=[0.0]))
    assert not registry.is_depthwise(L.Conv1D(2, 2))
    assert registry.operator(L.LSTM(2)) is None


_CHANNELWISE_ARGS = {"Activation": ("relu",), "Dropout": (0.5,), "SpatialDropout1D": (0.5,),
                     "SpatialDropout2D": (0.5,), "GaussianNoise": (0.3,), "GaussianDropout": (0.3,),
                     "AlphaDropout": (0.3,), "Cropping1D": (1,), "Cropping2D": (1,), "MaxPooling1D": (2,),
                     "AveragePooling1D": (2,), "AveragePooling2D": (2,)}


@pytest.mark.parametrize("cls", registry.CHANNELWISE, ids=lambda c: c.__name__)
def test_channelwise_layers_commute_with_a_channel_permutation(cls):
    """Keras's own layer is the oracle: permuting input channels permutes output channels alike."""
    name = cls.__name__
    rank = 1 if "1D" in name else 2
    layer = cls(*_CHANNELWISE_ARGS.get(name, ()))
    x = np.random.default_rng(0).normal(size=(2, *([6] * rank), 5)).astype("float32")
    perm = np.array([3, 0, 4, 1, 2])
    if isinstance(layer, L.BatchNormalization):
        layer.build(x.shape)
        layer.set_weights([np.linspace(0.5, 2, 5), np.linspace(-1, 1, 5), np.linspace(-.3, .3, 5), np.ones(5)])
    y = keras.ops.convert_to_numpy(layer(x, training=False))
    if isinstance(layer, L.BatchNormalization):
        layer.set_weights([w[perm] for w in layer.get_weights()])
    y_perm = keras.ops.convert_to_numpy(layer(x[..., perm], training=False))
    assert y.shape[-1] == 5
    np.testing.assert_allclose(y_perm, y[..., perm], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, shape", [(L.SeparableConv2D, (8, 8, 3)), (L.SeparableConv1D, (11, 3))])
def test_split_layers_compute_the_keras_layer(cls, shape):
    inputs = keras.Input(shape)
    sep = cls(7, 3, strides=2, depth_multiplier=2, padding="same", activation="relu", name="sep")
    model = keras.Sequential([inputs, sep, L.Flatten(), L.Dense(2, name="head")])
    rng = np.random.default_rng(0)
    sep.set_weights([rng.normal(size=w.shape) for w in sep.get_weights()])
    expanded = registry.expand_split_layers(model)
    assert [la.name for la in expanded.layers if la.weights] == ["sep_depthwise", "sep_pointwise", "head"]
    assert registry.split_names(model) == {"sep": ["sep_depthwise", "sep_pointwise"]}
    assert not expanded.get_layer("sep_depthwise").use_bias
    x = rng.normal(size=(3, *shape)).astype("float32")
    np.testing.assert_allclose(expanded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    assert registry.expand_split_layers(expanded) is expanded


def test_unsupported_reason_names_the_layer_and_the_remedy():
    reason = registry.unsupported_reason(L.GRU(3, name="gru"))
    assert "'gru' (GRU)" in reason and "recurrent" in reason and "keep_dense=['gru']" in reason
    assert "Conv1D" in reason and "SeparableConv2D" in reason
    reason = registry.unsupported_reason(L.MultiHeadAttention(2, 4, name="mha"))
    assert "attention" in reason and "keep_dense=['mha']" in reason
