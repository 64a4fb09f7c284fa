# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""What the nested and the LCS functional models share."""

from __future__ import annotations

import keras


class CompressedModel(keras.Model):
    """A functional model whose layers compute at a level or at α, trained in ``fit``.

    `keras_subnets.SubnetModel` (nested levels) and
    `keras_subnets.lcs.SubspaceModel` (a compressible subspace) specialise it:
    each keeps its training options under its own key of the saved config
    (``TRAINING_KEY``, returned by `_training_config`) and is rebuilt from it
    with the input and output structures as saved (a lone tensor stays a
    tensor, so an exported ``serve()`` takes the same arguments as the
    original model). Not registered for saving: only its subclasses are saved.
    """

    TRAINING_KEY = ""

    def _training_config(self) -> dict:
        raise NotImplementedError

    def _require_layers(self, layers: list, what: str, remedy: str) -> list:
        if not layers:
            raise ValueError(f"model '{self.name}' has no {what} layer; use {remedy} to convert a plain model")
        return layers

    def _unit_interval(self, name: str, value) -> float:
        """``value`` as a float, refused by name outside [0, 1]."""
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"model '{self.name}': {name} must lie in [0, 1], got {value}")
        return float(value)

    def get_config(self) -> dict:
        return {**super().get_config(), self.TRAINING_KEY: self._training_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras.src.models.functional import functional_from_config

        config = dict(config)
        training = config.pop(cls.TRAINING_KEY, {})
        plain = functional_from_config(keras.Model, config, custom_objects=custom_objects)
        return cls(inputs=plain.input, outputs=plain.output, name=plain.name, **training)
