# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""TensorFlow's conversion of the levels: calibration samples, one graph, united int8 ranges."""

import keras
import numpy as np
import pytest

from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.errors import ConversionError
from keras_subnets.convert.tf_convert import check_same_graph, representative_samples, tf_convert, union_ranges

SHAPE = (None, 4, 3)


def test_representative_samples_take_every_form_of_data():
    x = np.arange(5 * 4 * 3, dtype=np.float64).reshape(5, 4, 3)
    for data in (x, [x[:2], x[2:]], [(x[:2], np.zeros(2)), (x[2:], np.zeros(3))], lambda: iter([x])):
        samples = representative_samples(data, SHAPE, 10)
        assert len(samples) == 5 and all(s.shape == (1, 4, 3) and s.dtype == np.float32 for s in samples)
        np.testing.assert_array_equal(np.concatenate(samples), x.astype(np.float32))
    assert len(representative_samples(x, SHAPE, 3)) == 3
    assert representative_samples([x[0]], SHAPE, 3)[0].shape == (1, 4, 3)  # one unbatched sample


def test_representative_samples_refuse_bad_data_by_name():
    with pytest.raises(ConversionError, match="needs representative_data"):
        representative_samples(None, SHAPE, 3)
    with pytest.raises(ConversionError, match=r"shape \(4, 2\).*needs \(4, 3\)"):
        representative_samples(np.zeros((2, 4, 2)), SHAPE, 3)
    with pytest.raises(ConversionError, match="no samples"):
        representative_samples([], SHAPE, 3)


def _dense(extra_tanh: bool = False) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    x = keras.layers.Dense(5, name="hidden")(inputs)
    if extra_tanh:  # not fused into the FULLY_CONNECTED: one more operator
        x = keras.layers.Activation("tanh")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="out")(x))


def _ranges(model) -> dict[int, tuple[float, float]]:
    """Each activation tensor's representable float range [lo, hi]."""
    found = {}
    for i, tensor in enumerate(model.subgraphs[0].tensors):
        params = fb.quant_params(tensor)
        if fb.tensor_data(model, tensor) is None and params is not None and len(params[0]) == 1:
            s, z = float(params[0][0]), int(params[1][0])
            found[i] = ((-128 - z) * s, (127 - z) * s)
    return found


def test_union_ranges_cover_every_levels_range():
    model = _dense()
    rng = np.random.default_rng(0)
    small = [rng.uniform(-0.1, 0.1, (1, 6)).astype(np.float32) for _ in range(8)]
    large = [rng.uniform(-5.0, 3.0, (1, 6)).astype(np.float32) for _ in range(8)]
    levels = [fb.load(tf_convert(model, small)), fb.load(tf_convert(model, large))]
    before = [_ranges(m) for m in levels]
    assert before[0] != before[1]
    check_same_graph(levels)
    union_ranges(levels)
    after = _ranges(levels[-1])
    assert after.keys() == before[0].keys()
    for i, (lo, hi) in after.items():
        want_lo = min(min(r[i][0] for r in before), 0.0)
        want_hi = max(max(r[i][1] for r in before), 0.0)
        step = (want_hi - want_lo) / 255
        assert lo <= want_lo + step and hi >= want_hi - step, f"tensor {i}: [{lo}, {hi}] misses [{want_lo}, {want_hi}]"
        assert hi - lo <= (want_hi - want_lo) * (1 + 1e-5) + 1e-9, f"tensor {i}: wider than the union"


def test_levels_with_different_graphs_are_refused():
    samples = [np.ones((1, 6), np.float32)]
    levels = [fb.load(tf_convert(_dense(extra_tanh=True), samples)), fb.load(tf_convert(_dense(), samples))]
    with pytest.raises(ConversionError, match="different graph for level 0"):
        check_same_graph(levels)
