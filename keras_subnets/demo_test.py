# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The demo on a slice of Fashion-MNIST (one short epoch): its rows against the saved model
evaluated by Keras and its int8 file run again by the ``KS_*`` kernels; its data loader."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import tflm
from keras_subnets.convert import convert
from keras_subnets.demo import load_scaled, run_demo

LEVELS = (0.75, 0.0)
TEST, CONVERTED = 64, 32


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.keras"
    rows = run_demo(levels=LEVELS, kind="row", pretrain_epochs=0, epochs=1, batch_size=64, train_samples=128,
                    test_samples=TEST, output=str(path), verbose=0, convert_samples=CONVERTED)
    return rows, keras.models.load_model(path)


def test_load_scaled_gives_the_first_images_in_zero_one():
    (x, y), (x_test, y_test) = load_scaled(train_samples=10, test_samples=4)
    assert x.shape == (10, 28, 28, 1) and x.dtype == np.float32 and y.shape == (10,)
    assert x_test.shape == (4, 28, 28, 1) and y_test.shape == (4,)
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.5
    (more, _), _ = load_scaled(train_samples=20, test_samples=4)
    np.testing.assert_array_equal(more[:10], x)


def test_rows_are_the_saved_models_levels(demo):
    rows, model = demo
    assert [row["level"] for row in rows] == [0, 1]
    assert [row["target_sparsity"] for row in rows] == list(LEVELS)
    _, (x_test, y_test) = load_scaled(test_samples=TEST)
    for row in rows:
        with ks.level(model, row["level"]):
            accuracy = np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test)
        assert row["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert rows[0]["nonzeros"] < rows[1]["nonzeros"]
    # Depthwise layers stay dense in every level (tfmot's choice); Conv2D and Dense are nested.
    for name in ("dw1", "dw2"):
        assert model.get_layer(name).level_masks()[0].all(), name
    for name in ("stem", "pw1", "pw2", "classifier"):
        assert not model.get_layer(name).level_masks()[0].all(), name


def test_int8_accuracy_is_the_converted_files(demo):
    rows, model = demo
    (x_train, _), (x_test, y_test) = load_scaled(train_samples=200, test_samples=CONVERTED)
    outputs = tflm.run_levels(convert(model, x_train, quantize="int8", progress=False), x_test)
    for row in rows:
        want = np.mean(np.argmax(outputs[row["level"]], axis=1) == y_test)
        assert row["int8_accuracy"] == pytest.approx(want, abs=1e-9)

