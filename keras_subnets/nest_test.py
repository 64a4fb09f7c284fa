# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

import keras_subnets as ks

LEVELS = [0.75, 0.5, 0.0]


def _cnn():
    inputs = keras.Input((10, 10, 2))
    x = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(12, 1, name="pw")(x)
    x = keras.layers.BatchNormalization(name="bn3")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5, name="head")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])
    return model


def _x(n=4):
    return np.random.default_rng(1).normal(size=(n, 10, 10, 2)).astype("float32")


@pytest.mark.parametrize("kind", ["unstructured", "row", "block", "structured"])
def test_densest_level_reproduces_the_original_model(kind):
    base = _cnn()
    model = ks.nest(base, LEVELS, kind=kind)
    assert isinstance(model, ks.SubnetModel) and model.levels == LEVELS
    np.testing.assert_allclose(model.predict(_x(), verbose=0), base.predict(_x(), verbose=0), rtol=1e-5, atol=1e-5)
    names = {type(la).__name__ for la in model.layers}
    assert {"SubnetConv2D", "SubnetDepthwiseConv2D", "SubnetDense", "SubnetBatchNormalization"} <= names


def test_sequential_models_are_nested_and_masks_follow_magnitudes():
    base = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model = ks.nest(base, LEVELS, kind="unstructured", keep_row_max=False)
    first = model.subnet_layers()[0]
    kernel = keras.ops.convert_to_numpy(first.kernel)
    np.testing.assert_array_equal(kernel, base.layers[0].get_weights()[0])
    kept = first.level_masks()[0]
    assert kept.sum() == round(0.25 * kernel.size)
    assert np.abs(kernel[kept]).min() >= np.abs(kernel[~kept]).max()


def test_layer_selection_and_per_layer_sparsity():
    model = ks.nest(_cnn(), LEVELS, layers=["stem", "pw"], layer_levels={"pw": [0.9, 0.6, 0.0]})
    types = {la.name: type(la).__name__ for la in model.layers}
    assert types["head"] == "Dense"  # no BatchNorm after it: stays a plain layer
    dw = model.get_layer("dw")  # feeds a per-level BatchNorm: dense in every level, foldable
    assert types["dw"] == "SubnetDepthwiseConv2D" and dw.level_masks().all()
    assert dw.mask_kind == "structured" and dw.level_widths == [8, 8, 8]
    pw = model.get_layer("pw")
    assert pw.levels == [0.9, 0.6, 0.0]
    assert pw.level_masks()[0].sum() == max(12, round(0.1 * 8 * 12))  # every filter keeps one weight
    assert pw.level_masks()[1].sum() == round(0.4 * 8 * 12)


def test_structured_level_equals_a_physically_smaller_model():
    base = _cnn()
    model = ks.nest(base, LEVELS, kind="structured")
    stem, dw, pw, head = (model.get_layer(n) for n in ("stem", "dw", "pw", "head"))
    assert head.level_widths == [5, 5, 5]  # the classifier keeps every class
    assert dw.level_widths == stem.level_widths  # depthwise follows its input
    k = 0
    w_stem, w_pw = stem.level_widths[k], pw.level_widths[k]
    assert w_stem < 8 and w_pw < 12
    np_ = keras.ops.convert_to_numpy

    def bn(name, width):
        layer = model.get_layer(name)
        return [np_(v)[k, :width] for v in (layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance)]

    inputs = keras.Input((10, 10, 2))
    x = keras.layers.Conv2D(w_stem, 3, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(w_pw, 1, name="pw")(x)
    x = keras.layers.BatchNormalization(name="bn3")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    small = keras.Model(inputs, keras.layers.Dense(5, name="head")(x))
    small.get_layer("stem").set_weights([np_(stem.kernel)[..., :w_stem], np_(stem.bias)[:w_stem]])
    small.get_layer("dw").set_weights([np_(dw.kernel)[:, :, :w_stem], np_(dw.bias)[:w_stem]])
    small.get_layer("pw").set_weights([np_(pw.kernel)[:, :, :w_stem, :w_pw], np_(pw.bias)[:w_pw]])
    small.get_layer("head").set_weights([np_(head.kernel)[:w_pw], np_(head.bias)])
    for name, width in (("bn1", w_stem), ("bn2", w_stem), ("bn3", w_pw)):
        small.get_layer(name).set_weights(bn(name, width))
    with ks.level(model, k):
        got = model.predict(_x(), verbose=0)
    np.testing.assert_allclose(got, small.predict(_x(), verbose=0), rtol=1e-5, atol=1e-5)
    costs = ks.level_costs(model, k)
    assert costs["macs"] == sum(
        n * m for n, m in ((w_stem * 9 * 2, 100), (w_stem * 9, 100), (w_stem * w_pw, 100), (w_pw * 5, 1))
    )
    assert abs(costs["sparsity"] - 0.75) < 0.1


def test_structured_explicit_widths():
    model = ks.nest(_cnn(), LEVELS, kind="structured", widths={"stem": [2, 4, 8], "pw": [3, 6, 12]})
    assert model.get_layer("stem").level_widths == [2, 4, 8]
    assert model.get_layer("dw").level_widths == [2, 4, 8]
    assert model.get_layer("pw").level_widths == [3, 6, 12]


def test_structured_ties_the_members_of_a_residual_add():
    inputs = keras.Input((6, 6, 4))
    a = keras.layers.Conv2D(8, 1, name="a")(inputs)
    b = keras.layers.Conv2D(8, 1, name="b")(a)
    x = keras.layers.Add(name="residual")([a, b])
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    model = ks.nest(keras.Model(inputs, outputs), LEVELS, kind="structured")
    widths = model.get_layer("a").level_widths
    assert widths == model.get_layer("b").level_widths and widths[0] < widths[-1] == 8


@pytest.mark.parametrize("misaligned", [True, False])
def test_structured_refuses_what_it_cannot_follow_by_name(misaligned):
    inputs = keras.Input((6, 6, 4))
    a = keras.layers.Conv2D(2, 1)(inputs)
    c = keras.layers.Conv2D(2, 1)(inputs)
    b = keras.layers.Conv2D(4, 1)(inputs)
    if misaligned:
        x = keras.layers.Add(name="merge")([keras.layers.Concatenate()([a, c]), b])
        message = "'merge' .*do not line up"
    else:
        x = keras.layers.Reshape((6, 6, 4), name="reshape")(b)
        message = "'reshape' .*mixes or reorders channels"
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    with pytest.raises(ValueError, match=message):
        ks.nest(keras.Model(inputs, outputs), LEVELS, kind="structured")


@pytest.mark.parametrize("layer, message", [
    (keras.layers.LSTM(3, return_sequences=True, name="lstm"), r"'lstm' \(LSTM\).*recurrent.*keep_dense=\['lstm'\]"),
    (keras.layers.LayerNormalization(name="ln"), r"'ln' \(LayerNormalization\).*keep_dense=\['ln'\]"),
    (keras.layers.Conv1DTranspose(3, 2, name="ct"), r"'ct' \(Conv1DTranspose\).*keep_dense=\['ct'\]"),
])
def test_unsupported_weight_layers_are_named_with_keep_dense_as_remedy(layer, message):
    base = keras.Sequential([keras.Input((8, 4)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=message):
        ks.nest(base, LEVELS)


@pytest.mark.parametrize("keep", [["lstm"], [keras.layers.LSTM]])
def test_keep_dense_keeps_a_recurrent_layer_dense_at_every_level(keep, tmp_path):
    inputs = keras.Input((12, 5))
    x = keras.layers.Conv1D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.LSTM(6, name="lstm")(x)
    outputs = keras.layers.Dense(3, name="head")(x)
    base = keras.Model(inputs, outputs)
    model = ks.nest(base, LEVELS, keep_dense=keep)
    lstm = model.get_layer("lstm")
    assert type(lstm) is keras.layers.LSTM
    for old, new in zip(base.get_layer("lstm").get_weights(), lstm.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    x_in = np.random.default_rng(0).normal(size=(4, 12, 5)).astype("float32")
    np.testing.assert_allclose(model.predict(x_in, verbose=0), base.predict(x_in, verbose=0), atol=1e-5)
    costs = [ks.level_costs(model, k) for k in range(len(LEVELS))]
    assert costs[0]["macs"] < costs[-1]["macs"]
    # The kept LSTM costs the same at every level: all its parameters, its kernels once per step (12).
    cell = base.get_layer("lstm").cell
    lstm_macs = 12 * (int(np.prod(cell.kernel.shape)) + int(np.prod(cell.recurrent_kernel.shape)))
    for k, cost in enumerate(costs):
        nested = [la for la in model.subnet_layers() if isinstance(la, ks.layers.SubnetLayerMixin)]
        assert cost["nonzeros"] - sum(la.level_nonzeros(k) for la in nested) == base.get_layer("lstm").count_params()
        assert cost["macs"] - sum(la.level_macs(k) for la in nested) == lstm_macs
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in lstm.get_weights()]
    model.fit(x_in, np.arange(4) % 3, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, lstm.get_weights(), strict=True))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for k in range(len(LEVELS)):
        with ks.level(model, k), ks.level(loaded, k):
            np.testing.assert_array_equal(loaded.predict(x_in, verbose=0), model.predict(x_in, verbose=0))


def test_keep_dense_on_a_supported_layer_and_bad_policies():
    model = ks.nest(_cnn(), LEVELS, keep_dense=["head"])
    assert type(model.get_layer("head")) is keras.layers.Dense
    assert type(model.get_layer("pw")).__name__ == "SubnetConv2D"
    model = ks.nest(_cnn(), LEVELS, keep_dense=[keras.layers.DepthwiseConv2D])
    dw = model.get_layer("dw")  # feeds a per-level BatchNorm: every unit in every level, foldable
    assert dw.mask_kind == "structured" and dw.level_widths == [dw._units] * len(LEVELS)
    with pytest.raises(ValueError, match=r"no layer named \['nope'\]"):
        ks.nest(_cnn(), LEVELS, keep_dense=["nope"])
    with pytest.raises(ValueError, match="keep_dense: expected layer names or Keras layer classes"):
        ks.nest(_cnn(), LEVELS, keep_dense=[3])


def test_structured_refuses_a_kept_recurrent_layer_by_name():
    inputs = keras.Input((12, 5))
    x = keras.layers.Conv1D(8, 3, padding="same", name="conv")(inputs)
    x = keras.layers.GRU(6, name="gru")(x)
    outputs = keras.layers.Dense(3, name="head")(keras.layers.Dense(8, name="mid")(x))
    with pytest.raises(ValueError, match=r"'gru' \(GRU\).*no sub-network version.*keep_dense.*'unstructured'"):
        ks.nest(keras.Model(inputs, outputs), LEVELS, kind="structured", keep_dense=["gru"])


def _one_d_model():
    layers = keras.layers
    inputs = keras.Input((24, 3))
    x = layers.Conv1D(8, 3, strides=2, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="conv_bn")(x)
    x = layers.ReLU()(x)
    x = layers.DepthwiseConv1D(3, padding="same", name="dw")(x)
    x = layers.BatchNormalization(name="dw_bn")(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.SeparableConv1D(12, 3, padding="same", activation="relu", name="sep1d")(x)
    x = layers.AveragePooling1D(2)(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(4, name="head")(x)
    return keras.Model(inputs, outputs)


def _separable_model():
    layers = keras.layers
    inputs = keras.Input((10, 10, 3))
    x = layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    x = layers.SeparableConv2D(16, 3, depth_multiplier=2, padding="same", name="sep")(x)
    x = layers.BatchNormalization(name="sep_bn")(x)
    x = layers.ReLU()(x)
    x = layers.GlobalMaxPooling2D()(x)
    outputs = layers.Dense(4, name="head")(x)
    return keras.Model(inputs, outputs)


_NEW_LAYER_CASES = [
    pytest.param(build, shape, kind, marks=() if (build, kind) in fast else pytest.mark.slow)
    for fast in [{(_one_d_model, "structured"), (_separable_model, "block")}]
    for build, shape in [(_one_d_model, (24, 3)), (_separable_model, (10, 10, 3))]
    for kind in ["unstructured", "row", "block", "structured"]
]


@pytest.mark.parametrize("build, shape, kind", _NEW_LAYER_CASES)
def test_new_layer_types_nest_train_and_save_exactly(build, shape, kind, tmp_path):
    base = build()
    x = np.random.default_rng(2).normal(size=(8, *shape)).astype("float32")
    model = ks.nest(base, LEVELS, kind=kind)
    # Full width reproduces Keras's own layers (SeparableConv split into depthwise + pointwise).
    np.testing.assert_allclose(model.predict(x, verbose=0), base.predict(x, verbose=0), rtol=1e-4, atol=1e-4)
    names = {type(la).__name__ for la in model.layers}
    assert "SeparableConv2D" not in names and "SeparableConv1D" not in names
    costs = [ks.level_costs(model, k)["macs"] for k in range(len(LEVELS))]
    assert costs[0] < costs[1] < costs[2]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, np.arange(8) % 4, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for k in range(len(LEVELS)):
        with ks.level(model, k), ks.level(loaded, k):
            np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_split_layer_name_selects_both_parts():
    model = ks.nest(_separable_model(), LEVELS, keep_dense=["sep"], layer_levels={"stem": [0.9, 0.5, 0.0]})
    assert type(model.get_layer("sep_depthwise")) is keras.layers.DepthwiseConv2D
    assert model.get_layer("sep_pointwise").mask_kind == "structured"  # feeds a per-level BatchNorm
    model = ks.nest(_separable_model(), LEVELS, layers=["sep"])
    assert type(model.get_layer("stem")) is keras.layers.Conv2D
    assert model.get_layer("sep_depthwise").mask_kind == "unstructured"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown kind"):
        ks.nest(_cnn(), LEVELS, kind="diagonal")
    with pytest.raises(ValueError, match="no layer named"):
        ks.nest(_cnn(), LEVELS, layers=["nope"])
    with pytest.raises(ValueError, match="built"):
        ks.nest(keras.Sequential([keras.layers.Dense(2)]), LEVELS)
    with pytest.raises(ValueError, match="already a sub-network"):
        ks.nest(ks.nest(_cnn(), LEVELS), LEVELS)
    inputs = keras.Input((4, 4, 1))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(inputs))
    with pytest.raises(ValueError, match="'weightless' has no layer to nest"):
        ks.nest(keras.Model(inputs, pooled, name="weightless"), LEVELS)


def test_sliced_model_of_a_structured_level_is_smaller_and_equal():
    from keras_subnets.convert.export import sliced_model

    model = ks.nest(_cnn(), LEVELS, kind="structured")
    for k in range(len(LEVELS)):
        small = sliced_model(model, k)
        with ks.level(model, k):
            expected = model.predict(_x(), verbose=0)
        np.testing.assert_allclose(small.predict(_x(), verbose=0), expected, rtol=1e-5, atol=1e-5)
        assert small.get_layer("stem").kernel.shape[-1] == model.get_layer("stem").level_widths[k]
    with pytest.raises(ValueError, match="only structured"):
        sliced_model(ks.nest(_cnn(), LEVELS), 0)


def test_tfmot_prunable_layers_leave_depthwise_out_and_nest_keeps_it_dense():
    base = _cnn()
    names = ks.tfmot_prunable_layers(base)
    assert names == ["stem", "pw", "head"]
    model = ks.nest(base, LEVELS, layers=names)
    dw = model.get_layer("dw")
    dense = base.get_layer("dw").count_params()  # kernel and bias
    assert [dw.level_nonzeros(k) for k in range(len(LEVELS))] == [dense] * len(LEVELS)
    assert model.get_layer("pw").level_nonzeros(0) < int(np.prod(base.get_layer("pw").kernel.shape))
