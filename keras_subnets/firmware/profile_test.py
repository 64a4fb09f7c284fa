# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`profile` without firmware: the result's ratios and table from counts given here, the default
inputs, and `write_counts` storing counts in a converted file's level table."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert import convert
from keras_subnets.convert.tf_convert import tf_convert
from keras_subnets.firmware import modelfile, profile


@pytest.fixture(scope="module")
def nested_file():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    model = ks.nest(keras.Model(inputs, keras.layers.Dense(2)(x)), [0.6, 0.3, 0.0])
    return convert(model, np.random.default_rng(0).random((8, 4, 4, 1), "float32"), quantize="int8",
                   progress=False)


def _result(target="m4", baseline=None):
    levels = [profile.LevelProfile(0, 600, 0.6, 1200, [("KS_CONV_2D", 400), ("SOFTMAX", None)]),
              profile.LevelProfile(1, 800, 0.3, 2100), profile.LevelProfile(2, 1000, 0.0, 3000)]
    return profile.ProfileResult(target, levels, 4096, 90_000, 1234, baseline)


def test_ratios_are_to_the_densest_level_or_the_baseline():
    result = _result()
    assert result.reference() == 1000 and result.ratio(result.levels[0]) == pytest.approx(0.6)
    assert result.summary() is None  # no baseline
    base = profile.ProfileResult("m4", [profile.LevelProfile(None, 1250)], 2048, 80_000, 999)
    result = _result(baseline=base)
    assert result.reference() == 1250 and result.ratio(result.levels[2]) == pytest.approx(0.8)
    assert result.summary() == "densest/baseline=0.800 sparsest/baseline=0.480"
    x86 = profile.ProfileResult("x86", [profile.LevelProfile(0, None)], 100, None, 10)
    assert x86.reference() is None and x86.ratio(x86.levels[0]) is None and x86.summary() is None


def test_table_lists_every_row_and_the_operators():
    base = profile.ProfileResult("m4", [profile.LevelProfile(None, 1250)], 2048, 80_000, 999)
    lines = _result(baseline=base).table(per_op=True).splitlines()
    assert lines[0].split() == ["level", "sparsity", "MACs", "instructions", "/baseline"]
    assert lines[1].split() == ["baseline", "-", "-", "1,250", "1.000"]
    assert lines[2].split() == ["0", "0.600", "1,200", "600", "0.480"]
    assert lines[4].split() == ["2", "0.000", "3,000", "1,000", "0.800"]
    assert lines[5] == "arena 4,096 bytes, flash 90,000 bytes (model 1,234) on m4"
    assert lines[6] == "baseline: arena 2,048 bytes, flash 80,000 bytes (model 999)"
    assert lines[7] == "operators at level 0:"
    assert lines[8].split() == ["KS_CONV_2D", "400", "100.0", "%"]  # share of the counted operators
    assert lines[9].split() == ["SOFTMAX", "-"] and len(lines) == 10
    plain = profile.ProfileResult("x86", [profile.LevelProfile(None, None)], 100, None, 10).table()
    assert plain.splitlines()[0].endswith("/densest") and plain.splitlines()[1].split()[0] == "plain"
    assert "flash - bytes" in plain


def test_default_inputs_follow_the_data_input(nested_file):
    x = profile.default_inputs(nested_file, samples=3, seed=5)
    assert x.shape == (3, 4, 4, 1) and x.dtype == np.float32 and x.min() >= 0.0 and x.max() < 1.0
    np.testing.assert_array_equal(x, profile.default_inputs(nested_file, samples=3, seed=5))


def test_write_counts_stores_the_measured_levels(nested_file, tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(nested_file)
    result = _result()
    result.levels[1].instructions = None  # not measured: left out
    new = profile.write_counts(path, result)
    assert path.read_bytes() == new
    table = modelfile.level_table(new)
    assert [row.get("instructions_m4") for row in table["levels"]] == [600, None, 1000]
    assert table["arena_m4"] == 4096 and table["flash_m4"] == 90_000
    before = modelfile.level_table(nested_file)
    assert [row["sparsity"] for row in table["levels"]] == [row["sparsity"] for row in before["levels"]]


def test_write_counts_and_profile_refuse_what_they_cannot_use(nested_file, tmp_path):
    with pytest.raises(ValueError, match="--write needs instruction counts: profile on m4 or m7, not x86"):
        profile.write_counts(tmp_path / "never_read.tflite", _result("x86"))
    inputs = keras.Input((4,))
    plain = tmp_path / "plain.tflite"
    plain.write_bytes(tf_convert(keras.Model(inputs, keras.layers.Dense(2)(inputs)), None))  # TensorFlow's own file
    with pytest.raises(ValueError, match="plain.tflite' has no keras_subnets.levels table"):
        profile.write_counts(plain, _result())
    with pytest.raises(ValueError, match="target must be one of"):
        profile.profile(nested_file, "m55")
