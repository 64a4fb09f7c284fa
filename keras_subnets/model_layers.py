# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The layers of a Keras model, in one place.

Keras 3 has no public way to list every layer of a model including those of
nested models; `keras.Model._flatten_layers` does it. Every query of the
package goes through `model_layers` so that the private API is read once.
"""

from __future__ import annotations

from collections.abc import Callable

import keras


def model_layers(model: keras.Model, kind: type | tuple[type, ...] | Callable[[object], bool] | None = None) -> list:
    """The layers of ``model`` (nested models' layers included, not the model itself), in topological order.

    Args:
        model: a built Keras model.
        kind: keep only instances of this class (or tuple of classes), or the
            layers for which this predicate is true; None keeps every layer.
    """
    found = list(model._flatten_layers(include_self=False))
    if kind is None:
        return found
    if isinstance(kind, type | tuple):
        return [layer for layer in found if isinstance(layer, kind)]
    return [layer for layer in found if kind(layer)]


def require_built(model, caller: str) -> None:
    """Refuses, naming ``caller``, anything but a built Keras model with known inputs."""
    if not isinstance(model, keras.Model) or not model.built or not getattr(model, "inputs", None):
        raise ValueError(
            f"{caller} needs a built Sequential or Functional model with known inputs; "
            "give the model a keras.Input (or call it once) first"
        )


def functional_io(cloned: keras.Model) -> tuple:
    """``(inputs, outputs)`` of a cloned model for a new functional model.

    A functional model's own structure is kept (a lone tensor stays a
    tensor); a Sequential's are lists.
    """
    if isinstance(cloned, keras.Sequential):
        return cloned.inputs, cloned.outputs
    return cloned.input, cloned.output
