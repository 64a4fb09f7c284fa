# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import lcs


@pytest.mark.parametrize("make", [
    lambda: ks.SubnetDense(3, levels=[0.5, 0.0], name="sub"),
    lambda: lcs.LcsDense(3, variant="line", name="sub"),
])
def test_every_variable_round_trips_by_name_and_a_missing_one_is_named(make):
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    layer, other = make(), make()
    layer(x)
    other(x)
    store = {}
    layer.save_own_variables(store)
    assert set(store) == set(layer._saved_variables())
    other.load_own_variables(store)
    for name, variable in other._saved_variables().items():
        np.testing.assert_array_equal(np.asarray(variable), np.asarray(store[name]), err_msg=name)
    del store["kernel"]
    with pytest.raises(ValueError, match=r"layer 'sub'.*\['kernel'\]"):
        other.load_own_variables(store)
