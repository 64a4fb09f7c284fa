# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import io

import keras
import numpy as np
import pytest

import keras_subnets as ks


def test_evaluate_levels_reports_costs_and_metrics_per_level():
    inputs = keras.Input((4, 4, 3))
    x = ks.SubnetConv2D(8, 3, padding="same", levels=[0.5, 0.0], use_bias=False)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = ks.SubnetDense(2, levels=[0.5, 0.0], activation="softmax")(x)
    model = ks.SubnetModel(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x_data, y_data = rng.normal(size=(20, 4, 4, 3)).astype("float32"), rng.integers(0, 2, 20)
    out = io.StringIO()
    rows = ks.evaluate_levels(model, x_data, y_data, file=out)
    assert [r["level"] for r in rows] == [0, 1]
    conv_dense = 8 * 27
    assert rows[1]["macs"] == conv_dense * 16 + 16
    assert rows[0]["macs"] == round(0.5 * conv_dense) * 16 + round(0.5 * 16)
    assert rows[1]["nonzeros"] == conv_dense + 16 + 2
    assert rows[1]["sparsity"] == 0.0 and rows[0]["sparsity"] > 0.4
    for r in rows:
        with ks.level(model, r["level"]):
            loss, acc = model.evaluate(x_data, y_data, verbose=0)
        assert r["loss"] == pytest.approx(loss) and r["accuracy"] == pytest.approx(acc)
    text = out.getvalue()
    assert "level" in text and "MACs" in text and "accuracy" in text and len(text.splitlines()) == 4
    assert ks.get_level(model) == 1


def test_uncompiled_model_is_rejected():
    inputs = keras.Input((3,))
    model = ks.SubnetModel(inputs, ks.SubnetDense(2, levels=[0.5, 0.0])(inputs))
    with pytest.raises(ValueError, match="compiled"):
        ks.evaluate_levels(model, np.zeros((1, 3)), np.zeros(1))
