# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Converter and densify against Keras, run by the tflite-micro wheel's interpreter."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_subnets as ks
from keras_subnets.convert import ConversionError, convert, densify, formats, options, read_levels
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.reference import run_tflm
from keras_subnets.demo import load_scaled

LEVELS = [0.9, 0.6, 0.0]
KINDS = ["unstructured", "row", "block", "structured"]


@pytest.fixture(scope="module")
def data():
    return load_scaled(train_samples=3000, test_samples=64)


@pytest.fixture(scope="module")
def trained(data):
    """One short-trained model per mask kind (real Fashion-MNIST)."""
    (x, y), _ = data
    keras.utils.set_random_seed(0)
    base = ks.zoo.quickstart_cnn()
    base.compile("adam", "sparse_categorical_crossentropy")
    base.fit(x, y, epochs=1, batch_size=64, verbose=0)
    models = {}
    for kind in KINDS:
        model = ks.nest(base, LEVELS, kind=kind)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x[:1500], y[:1500], epochs=1, batch_size=64, verbose=0)
        models[kind] = model
    return models


@pytest.mark.parametrize("kind", KINDS)
def test_every_level_matches_keras_through_the_densified_reference(kind, trained, data):
    (x_train, _), (x_test, _) = data
    model = trained[kind]
    x = x_test[:24]
    float_file = convert(model, quantize="float32", progress=False)
    int8_file = convert(model, x_train[:200], quantize="int8", progress=False)
    for k in range(len(LEVELS)):
        with ks.level(model, k):
            expected = model.predict(x, verbose=0)
        got = run_tflm(densify(float_file, k), x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=f"float32 level {k}")
        got8 = run_tflm(densify(int8_file, k), x)
        step = 1.0 / 256.0  # softmax output: int8 scale 1/256
        assert np.abs(got8 - expected).max() <= step + 1e-6, f"int8 level {k} differs by more than one step"


@pytest.mark.parametrize("quantize", ["float32", "int8"])
def test_file_structure_schema_and_level_table(quantize, trained, data, capfd):
    (x_train, _), (x_test, y_test) = data
    model = trained["unstructured"]
    blob = convert(model, x_train[:100], quantize=quantize, accuracy=[0.5, 0.6, 0.7], progress=False)
    # TensorFlow's C++ reader parses the whole file (it fails on a malformed flatbuffer).
    tf.lite.experimental.Analyzer.analyze(model_content=blob)
    assert "KS_CONV_2D" in capfd.readouterr().out
    parsed = fb.load(blob)
    sg = parsed.subgraphs[0]
    names = [fb.op_name(parsed, op) for op in sg.operators]
    assert names.count("KS_CONV_2D") == 3 and names.count("KS_DEPTHWISE_CONV_2D") == 2
    assert names.count("KS_FULLY_CONNECTED") == 1
    assert not {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} & set(names)
    inputs = [fb._text(sg.tensors[i].name) for i in sg.inputs]
    assert inputs[-1] == "subnet" and sg.tensors[sg.inputs[-1]].type == fb.TensorType.INT32
    table = read_levels(blob)
    assert [row["level"] for row in table["levels"]] == [0, 1, 2]
    assert [row["accuracy"] for row in table["levels"]] == [0.5, 0.6, 0.7]
    # MACs recounted from outside the converter: each KS operator's output pixels (the file's own
    # tensor shapes) times the weights its layer's mask keeps at the level.
    layers = {la.name: la for la in ks.convert.export.subnet_layers(model)}
    macs = np.zeros(3, np.int64)
    for op in sg.operators:
        if not fb.op_name(parsed, op).startswith("KS_"):
            continue
        out_shape = sg.tensors[op.outputs[0]].shape
        pixels = int(np.prod(out_shape[1:-1])) if len(out_shape) == 4 else 1
        table_name = fb._text(sg.tensors[op.inputs[4]].name)  # "<layer>/levels"
        layer = layers[table_name.rsplit("/", 1)[0]]
        macs += layer.level_masks().reshape(3, -1).sum(axis=1) * pixels
    assert [row["macs"] for row in table["levels"]] == macs.tolist()
    # Inner activations carry short names (TensorFlow's fused names were 200-320 bytes each): a KS_*
    # operator's output is its layer's name; the graph's inputs and outputs keep TensorFlow's names.
    for op in sg.operators:
        if fb.op_name(parsed, op).startswith("KS_") and int(op.outputs[0]) not in sg.outputs:
            layer_name = fb._text(sg.tensors[op.inputs[4]].name).rsplit("/", 1)[0]
            assert fb._text(sg.tensors[op.outputs[0]].name) == layer_name
    inner = ({i for i, t in enumerate(sg.tensors) if fb.tensor_data(parsed, t) is None}
             - {int(i) for i in sg.inputs} - {int(i) for i in sg.outputs})
    assert max(len(sg.tensors[i].name) for i in inner) < 40
    assert all(sg.tensors[i].shapeSignature is None for i in inner)
    assert fb._text(sg.tensors[sg.inputs[0]].name).startswith("serving_default")
    reads = [row["bytes_read"] for row in table["levels"]]
    assert reads[0] < reads[1] < reads[2]
    assert json.loads(json.dumps(table)) == table
    # Every kernel weight is stored once: int8 files keep the weights in the dense tensors and only indices
    # in the sparse arrays (format v4: every level reads its values from D); float32 files keep every
    # level's values sparse.
    weights = sum(int(np.prod(la.kernel.shape)) for la in ks.convert.export.subnet_layers(model))
    custom = [op for _, op in fb.custom_ops(parsed)]
    stored = {slot: sum(fb.tensor_data(parsed, sg.tensors[op.inputs[slot]]).nbytes for op in custom
                        if len(op.inputs) > slot and op.inputs[slot] >= 0)
              for slot in (2, options.DENSE_INPUT)}  # values, dense weights
    if quantize == "int8":
        assert stored == {2: 0, options.DENSE_INPUT: weights}
    else:
        assert stored == {2: weights * 4, options.DENSE_INPUT: 0}
    # Constants are unnamed but the level table, "<layer>/levels" (format v5: no runtime reads a name).
    for op in custom:
        named = [fb._text(sg.tensors[i].name) for slot, i in enumerate(op.inputs) if slot >= 2 and i >= 0
                 and sg.tensors[i].name]
        assert len(named) == 1 and named[0].endswith("/levels")


def test_tables_of_a_trained_model(trained, data):
    """Training gives every level its own BatchNorm statistics: the layers followed by a
    BatchNorm keep [L, rows] tables, the classifier (no BatchNorm) stores them once."""
    (x_train, _), _ = data
    L = len(LEVELS)
    blob = convert(trained["unstructured"], x_train[:100], progress=False)
    parsed = fb.load(blob)
    sg = parsed.subgraphs[0]
    for name, op in fb.custom_ops(parsed):
        opts = options.decode(op.customOptions)
        assert opts["tables"] == (options.TABLES_SHARED if name == "KS_FULLY_CONNECTED" else options.TABLES_PER_LEVEL)
        rows = opts["rows"]
        assert [int(i) for i in op.inputs[6:8]] == [-1, -1]  # format v5: every table in input 5
        bias, mult, shift = (t.reshape(-1, rows) for t in formats.split_tables(
            fb.tensor_data(parsed, sg.tensors[op.inputs[5]]), True))
        if name == "KS_FULLY_CONNECTED":
            assert bias.shape == (1, rows)  # shared: stored once
            bias, mult, shift = bias[0], mult[0], shift[0]
        # dense_top (format v3): pointers of the sparse levels 0..L-2 only.
        assert fb.tensor_data(parsed, sg.tensors[op.inputs[4]]).size == rows * (L - 1) + 1
        assert fb.tensor_data(parsed, sg.tensors[op.inputs[4]]).dtype == np.uint16
        assert (bias.dtype, mult.dtype, shift.dtype) == (np.int32, np.int32, np.int8)
        expected = (rows,) if name == "KS_FULLY_CONNECTED" else (L, rows)
        assert bias.shape == mult.shape == shift.shape == expected, name
        if len(expected) == 2:
            assert not np.array_equal(mult[0], mult[-1]), f"{name}: levels should differ after training"
        assert shift.min() >= -31 and shift.max() <= 30


def test_densified_files_are_plain_tflite(trained, data):
    (x_train, _), (x_test, _) = data
    blob = densify(convert(trained["row"], x_train[:50], progress=False), 0)
    interp = tf.lite.Interpreter(model_content=blob)  # TensorFlow Lite parses and allocates it
    interp.allocate_tensors()
    assert len(interp.get_input_details()) == 1


def test_bad_inputs_are_named(trained, data, tmp_path):
    (x_train, _), _ = data
    model = trained["unstructured"]
    with pytest.raises(ConversionError, match="representative_data"):
        convert(model, None, quantize="int8", progress=False)
    with pytest.raises(ConversionError, match=r"\(28, 28, 1\)"):
        convert(model, np.zeros((4, 32, 32, 3), "float32"), progress=False)
    with pytest.raises(ConversionError, match="quantize"):
        convert(model, quantize="int4", progress=False)
    plain = ks.zoo.quickstart_cnn()
    with pytest.raises(ConversionError, match="no sub-network layer"):
        convert(plain, quantize="float32", progress=False)
    with pytest.raises(ConversionError, match="accuracy has 2 values"):
        convert(model, quantize="float32", accuracy=[0.1, 0.2], progress=False)
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConversionError, match="broken.keras"):
        ks.convert.convert_file(bad, tmp_path / "out.tflite", quantize="float32")
    blob = convert(model, quantize="float32", progress=False)
    with pytest.raises(ValueError, match="level 3 is out of range"):
        densify(blob, 3)
    with pytest.raises(ValueError, match="TFL3"):
        densify(b"garbage!" * 4, 0)


def test_dilated_convolutions_are_refused_by_name():
    inputs = keras.Input((12, 12, 2))
    x = ks.SubnetDepthwiseConv2D(3, dilation_rate=2, padding="same", levels=[0.5, 0.0], name="dilated_dw")(inputs)
    outputs = ks.SubnetDense(3, levels=[0.5, 0.0])(keras.layers.GlobalAveragePooling2D()(x))
    with pytest.raises(ConversionError, match="dilated_dw"):
        convert(ks.SubnetModel(inputs, outputs), quantize="float32", progress=False)


def test_unfoldable_per_level_batch_norm_is_named():
    inputs = keras.Input((6,))
    x = ks.SubnetBatchNormalization(levels=[0.5, 0.0], name="loose_bn")(inputs)
    outputs = ks.SubnetDense(3, levels=[0.5, 0.0])(x)
    model = ks.SubnetModel(inputs, outputs)
    model.get_layer("loose_bn").moving_mean.assign(np.array([[1.0] * 6, [2.0] * 6], "float32"))
    with pytest.raises(ConversionError, match="loose_bn"):
        convert(model, quantize="float32", progress=False)


def test_partly_nested_model_keeps_depthwise_layers_dense_and_runs_on_the_kernels(data):
    # tfmot's choice, and the benchmark's: depthwise layers stay dense in every level.
    from keras_subnets.tflm import run_levels

    (x, y), (x_test, _) = data
    keras.utils.set_random_seed(1)
    base = ks.zoo.quickstart_cnn()
    base.compile("adam", "sparse_categorical_crossentropy")
    base.fit(x[:1500], y[:1500], epochs=1, batch_size=64, verbose=0)
    model = ks.nest(base, LEVELS, kind="unstructured", layers=["stem", "pw1", "pw2", "classifier"],
                    inner_gradient=0.1)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:1500], y[:1500], epochs=1, batch_size=64, verbose=0)
    dw = model.get_layer("dw1")  # dense in every level, its BatchNorm still per level
    assert isinstance(dw, ks.SubnetDepthwiseConv2D) and dw.level_masks().all()
    blob = convert(model, x[:200], quantize="int8", progress=False)
    sample = x_test[:16]
    on_kernels = run_levels(blob, sample, dequantize=True)
    for k in range(len(LEVELS)):
        with ks.level(model, k):
            expected = model.predict(sample, verbose=0)
        reference = run_tflm(densify(blob, k), sample)
        assert np.abs(on_kernels[k] - expected).max() <= 1.0 / 256.0 + 1e-6, f"level {k}"
        np.testing.assert_allclose(on_kernels[k], reference, atol=1e-6, err_msg=f"level {k}: kernels vs reference")
