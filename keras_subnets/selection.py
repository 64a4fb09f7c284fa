# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Choosing the active level of a model at inference time."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

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
    with switched(model, level, get_level, set_level):
        yield model


@contextlib.contextmanager
def switched(model: keras.Model, value, get: Callable[[keras.Model], object],
             put: Callable[[keras.Model, object], None]) -> Iterator[keras.Model]:
    """Runs ``model`` with its setting put to ``value``, restoring the previous one on exit.

    The one save-and-restore behind `level` and `keras_subnets.lcs.alpha`:
    the previous setting comes back even when the body raises.

    Args:
        model: the model.
        value: the setting for the body.
        get: reads the model's setting.
        put: writes a setting into the model.
    """
    previous = get(model)
    put(model, value)
    try:
        yield model
    finally:
        put(model, previous)
