# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Structured levels and REDS across residual adds, gates and concatenations.

Four graphs every TinyML zoo has: a ResNet-8-like network (Add, with a 1x1
projection), an Inception-like block (Concatenate, then a depthwise layer and a
1x1 conv reading the members' ranges), a MobileNetV2-like inverted residual with
hard-swish written as Keras operations (``x * relu6(x + 3) / 6``), and a
squeeze-and-excite gate (Multiply). Oracles: the Keras forward pass of the
unpermuted model, the masked kernels' MAC count, TFLite's reference kernels on
the densified file and the tflite-micro wheel running the KS operators.
"""

import keras
import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime

import keras_subnets as ks
from keras_subnets import graph, reds, tflm
from keras_subnets.convert import convert, densify
from keras_subnets.convert.reference import run_interpreter
from keras_subnets.testing import vary_batch_norm_per_level

layers = keras.layers
SHAPE = (12, 12, 3)


def _conv_bn(x, filters, kernel=3, strides=1, name="", relu=True):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def resnet_tiny() -> keras.Model:
    inputs = keras.Input(SHAPE)
    x = _conv_bn(inputs, 8, name="stem")
    y = _conv_bn(x, 8, name="b1a")
    y = _conv_bn(y, 8, name="b1b", relu=False)
    x = layers.ReLU(name="b1_out")(layers.Add(name="b1_add")([x, y]))
    y = _conv_bn(x, 12, strides=2, name="b2a")
    y = _conv_bn(y, 12, name="b2b", relu=False)
    shortcut = _conv_bn(x, 12, kernel=1, strides=2, name="b2_proj", relu=False)
    x = layers.ReLU(name="b2_out")(layers.Add(name="b2_add")([shortcut, y]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(5, name="head")(x), name="resnet_tiny")


def inception_tiny() -> keras.Model:
    inputs = keras.Input(SHAPE)
    x = _conv_bn(inputs, 8, strides=2, name="stem")
    a = _conv_bn(x, 6, kernel=1, name="br1")
    b = _conv_bn(x, 8, name="br3")
    c = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    c = _conv_bn(c, 4, kernel=1, name="brp")
    x = layers.Concatenate(name="join")([a, b, c])
    x = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = layers.BatchNormalization(name="dw_bn")(x)
    x = layers.ReLU()(x)
    x = _conv_bn(x, 10, kernel=1, name="mix")
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(5, name="head")(x), name="inception_tiny")


def _hard_swish(x):
    return x * layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def mobilenet_v2_tiny() -> keras.Model:
    inputs = keras.Input(SHAPE)
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = _hard_swish(layers.BatchNormalization(name="stem_bn")(x))
    for i in range(2):
        y = _conv_bn(x, 24, kernel=1, name=f"expand{i}")
        y = layers.DepthwiseConv2D(3, padding="same", name=f"dw{i}")(y)
        y = layers.ReLU(6.0)(layers.BatchNormalization(name=f"dw{i}_bn")(y))
        y = _conv_bn(y, 8, kernel=1, name=f"project{i}", relu=False)
        x = layers.Add(name=f"res{i}")([x, y])
    x = layers.GlobalAveragePooling2D()(_conv_bn(x, 16, kernel=1, name="last"))
    return keras.Model(inputs, layers.Dense(5, name="head")(x), name="mobilenet_v2_tiny")


def squeeze_excite_tiny(gate: str = "sigmoid") -> keras.Model:
    inputs = keras.Input(SHAPE)
    x = _conv_bn(inputs, 16, strides=2, name="stem")
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.Conv2D(4, 1, activation="relu", name="squeeze")(s)
    s = layers.Conv2D(16, 1, activation=gate, name="excite")(s)
    x = layers.Multiply(name="gate")([x, s])
    x = _conv_bn(x, 12, name="conv")
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(5, name="head")(x), name="squeeze_excite_tiny")


MODELS = [resnet_tiny, inception_tiny, mobilenet_v2_tiny, squeeze_excite_tiny]


def _randomise(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.3, c), rng.normal(0, 0.2, c),
                               rng.uniform(0.5, 2.0, c)])
    return model


def _x(n=4, seed=1):
    return np.random.default_rng(seed).normal(size=(n, *SHAPE)).astype("float32")


def test_groups_tie_residual_members_gates_and_offset_concatenations():
    channels = graph.trace_channels(resnet_tiny())
    names = {g.name: sorted(p.name for p in g.producers) for g in channels.groups}
    assert names["stem"] == ["b1b", "stem"] and names["b2_proj"] == ["b2_proj", "b2b"]
    assert not channels.group("stem").fixed and channels.group("input").fixed
    channels = graph.trace_channels(inception_tiny())
    assert [(s.group.name, s.size) for s in channels.inputs["mix"].segments] == [("br1", 6), ("br3", 8), ("brp", 4)]
    assert channels.outputs["dw"].channels == 18
    channels = graph.trace_channels(squeeze_excite_tiny())
    assert sorted(p.name for p in channels.group("stem").producers) == ["excite", "stem"]
    assert [la.name for la in channels.consumers(channels.group("stem"))] == ["squeeze", "conv"]
    channels = graph.trace_channels(mobilenet_v2_tiny())
    assert sorted(p.name for p in channels.group("stem").producers) == ["project0", "project1", "stem"]
    assert channels.group("head").fixed_reasons == ["reaches the model output", "feeds no weight layer"]


@pytest.mark.parametrize("build", MODELS)
def test_permutation_of_tied_groups_keeps_the_function(build):
    keras.utils.set_random_seed(0)
    model = _randomise(build())
    x = _x()
    before = model.predict(x, verbose=0)
    importance = reds.magnitude_importance(model)
    applied = reds.permute_channels(model, importance)
    assert applied and any(not np.array_equal(p, np.arange(len(p))) for p in applied.values())
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-5, atol=1e-5)
    scores = reds.permutation.group_scores(graph.trace_channels(model), reds.magnitude_importance(model))
    for name in applied:
        assert np.all(np.diff(scores[name]) <= 1e-5 * scores[name].max()), name


@pytest.mark.parametrize("build", MODELS)
def test_knapsack_costs_are_the_nested_models_and_tied_layers_share_widths(build):
    keras.utils.set_random_seed(0)
    base = build()
    reds.permute_channels(base, reds.magnitude_importance(base))
    chosen = reds.plan(base, (0.35, 0.7), min_units=2)
    model = ks.nest(base, chosen.sparsities, kind="structured", widths=chosen.widths)
    channels = graph.trace_channels(base)
    for k, solution in enumerate(chosen.solutions):
        costs = ks.level_costs(model, k)
        assert costs["macs"] == pytest.approx(solution.costs["macs"])  # masks and knapsack agree exactly
        assert costs["macs"] <= chosen.budgets[k]["macs"] * (1 + 1e-9)
        for g in channels.groups:
            for p in g.producers:
                assert model.get_layer(p.name).level_widths[k] == solution.widths[g.name], (p.name, k)
    assert chosen.solutions[0].costs["macs"] < chosen.solutions[-1].costs["macs"]
    assert chosen.sparsities[-1] == 0.0


LEVELS = [0.6, 0.3, 0.0]


_CONVERTED = {}


def _converted(build):
    """The nested model (per-level BatchNorm statistics) and its float32 and int8 files, built once."""
    if build.__name__ not in _CONVERTED:
        keras.utils.set_random_seed(0)
        model = ks.nest(_randomise(build()), LEVELS, kind="structured")
        vary_batch_norm_per_level(model)
        _CONVERTED[build.__name__] = (model, convert(model, quantize="float32", progress=False),
                                      convert(model, _x(32, seed=5), quantize="int8", progress=False))
    return _CONVERTED[build.__name__]


# Add and Concatenate (the nested sparse fallback) in the default suite; the others are slow.
@pytest.mark.parametrize("build", [resnet_tiny, inception_tiny,
                                   pytest.param(mobilenet_v2_tiny, marks=pytest.mark.slow),
                                   pytest.param(squeeze_excite_tiny, marks=pytest.mark.slow)])
def test_converted_levels_match_keras_and_the_ks_kernels_are_bit_exact(build):
    model, float_file, int8_file = _converted(build)
    x = _x(3, seed=7)
    for k in range(len(LEVELS)):
        with ks.level(model, k):
            expected = model.predict(x, verbose=0)
        dense = runtime.Interpreter.from_bytes(densify(float_file, k))
        reference = run_interpreter(dense, x)
        np.testing.assert_allclose(reference, expected, rtol=1e-4, atol=1e-4, err_msg=f"float32 level {k}")
    for blob, exact in ((float_file, False), (int8_file, True)):
        got = tflm.run_levels(blob, x)
        for k, out in got.items():
            reference = run_interpreter(
                runtime.Interpreter.from_bytes(densify(blob, k)), x, dequantize=False)
            if exact:
                np.testing.assert_array_equal(out, reference, err_msg=f"int8 level {k}")
            else:
                np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-5, err_msg=f"float32 level {k}")
        assert not np.array_equal(got[0], got[len(LEVELS) - 1])


def test_a_constant_folded_into_a_bias_is_refused_by_name():
    """TensorFlow folds hard_sigmoid's '+ 3' into the excite conv's bias, which the KS operator would lose."""
    model = ks.nest(squeeze_excite_tiny(gate="hard_sigmoid"), LEVELS, kind="structured")
    with pytest.raises(ks.convert.ConversionError, match="'excite'.*folded"):
        convert(model, quantize="float32", progress=False)


def test_fit_subnets_on_a_residual_network_keeps_the_input_model_as_its_densest_level():
    keras.utils.set_random_seed(0)
    base = _randomise(resnet_tiny())
    base.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _x(32, seed=3), np.random.default_rng(3).integers(0, 5, 32)
    model, chosen = reds.fit_subnets(base, x, y, (0.4, 0.7), epochs=0, importance_batches=1, batch_size=16,
                                     min_units=2, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    macs = [ks.level_costs(model, k)["macs"] for k in range(3)]
    assert macs[0] < macs[1] < macs[2]
    assert model.get_layer("stem").level_widths == model.get_layer("b1b").level_widths
    with ks.level(model, 2):
        np.testing.assert_allclose(model.predict(x, verbose=0), base.predict(x, verbose=0), rtol=1e-4, atol=1e-5)
