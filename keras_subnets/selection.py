# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Choosing the active level of a model at inference time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from keras_subnets.model_layers import model_layers


def _level_holders(model: keras.Model) -> list:
    holders = model_layers(model, lambda la: hasattr(la, "active_level"))
    if not holders:
        raise ValueError(
            f"model '{model.name}' holds no sub-network layer; convert it with "
            "keras_subnets.nest() first"
        )
    return holders


def num_levels(model: keras.Model) -> int:
    """Number of levels of a model with sub-network layers."""
    counts = {len(la.levels) for la in _level_holders(model)}
    if len(counts) != 1:
        raise ValueError(f"model '{model.name}' mixes layers with {sorted(counts)} levels")
    return counts.pop()


def get_level(model: keras.Model) -> int:
    """The model-wide active level."""
    values = {int(keras.ops.convert_to_numpy(la.active_level)) for la in _level_holders(model)}
    if len(values) != 1:
        raise ValueError(f"model '{model.name}' has layers at different levels {sorted(values)}")
    return values.pop()


def set_level(model: keras.Model, level: int) -> None:
    """Makes ``level`` the active level of every sub-network layer.

    Takes effect in compiled ``predict``/``evaluate`` functions at once (the
    level is a variable, nothing is retraced). Negative indices count from the
    densest level, like Python lists.

    Raises:
        ValueError: if the model has no such level or ``level`` is not a
            whole number.
    """
    count = num_levels(model)
    # int(1.5) would silently pick level 1: only whole numbers name a level.
    if isinstance(level, bool) or not float(level).is_integer():
        raise ValueError(
            f"model '{model.name}': a level is a whole number in 0..{count - 1} "
            f"(or negative from the densest), got {level!r}"
        )
    index = int(level)
    if index < 0:
        index += count
    if not 0 <= index < count:
        raise ValueError(f"model '{model.name}' has levels 0..{count - 1}; got level {level}")
    for layer in _level_holders(model):
        layer.active_level.assign(index)


@contextlib.contextmanager
def level(model: keras.Model, level: int) -> Iterator[keras.Model]:
    """Context manager that runs ``model`` at ``level`` and restores the previous one.

    Example:
        >>> with keras_subnets.level(model, 0):
        ...     fast = model.predict(x)
    """
    previous = get_level(model)
    set_level(model, level)
    try:
        yield model
    finally:
        set_level(model, previous)
