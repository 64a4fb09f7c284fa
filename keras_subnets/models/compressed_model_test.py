# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The shared model base through a minimal subclass, against the plain Keras model it wraps."""

import keras
import numpy as np
import pytest

from keras_subnets.models.compressed_model import CompressedModel


class _Scaled(CompressedModel):
    TRAINING_KEY = "scaled_training"

    def __init__(self, *args, rate: float = 0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.rate = self._unit_interval("rate", rate)

    def _training_config(self) -> dict:
        return {"rate": self.rate}


def _plain():
    inputs = keras.Input((4,), name="x")
    return keras.Model(inputs, keras.layers.Dense(3, name="fc")(inputs), name="plain")


def test_the_training_options_survive_a_config_round_trip_under_their_key():
    plain = _plain()
    model = _Scaled(inputs=plain.input, outputs=plain.output, name="scaled", rate=0.25)
    config = model.get_config()
    assert config["scaled_training"] == {"rate": 0.25}
    rebuilt = _Scaled.from_config(config)
    assert type(rebuilt) is _Scaled and rebuilt.rate == 0.25 and rebuilt.name == "scaled"
    rebuilt.set_weights(plain.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    # A lone input and output stay tensors, not one-element lists.
    assert not isinstance(rebuilt.input, list | tuple) and not isinstance(rebuilt.output, list | tuple)
    np.testing.assert_allclose(rebuilt(x), plain(x), rtol=1e-6)


def test_options_outside_the_unit_interval_and_missing_layers_are_named():
    plain = _plain()
    with pytest.raises(ValueError, match=r"model 'scaled': rate must lie in \[0, 1\], got 1.5"):
        _Scaled(inputs=plain.input, outputs=plain.output, name="scaled", rate=1.5)
    model = _Scaled(inputs=plain.input, outputs=plain.output, name="scaled")
    with pytest.raises(ValueError, match="model 'scaled' has no nested layer; use ks.nest"):
        model._require_layers([], "nested", "ks.nest")
    assert model._require_layers([1], "nested", "ks.nest") == [1]
