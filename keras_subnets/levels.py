# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Level bookkeeping shared by every sub-network layer.

A *level* is one nested sub-network. Levels are ordered sparsest first and
densest last; level ``k``'s non-zero weights are a subset of level ``k + 1``'s.
Each layer stores, for every weight, the index of the first level that
contains it (``kernel_level``); the mask of level ``k`` is
``kernel_level <= k``. Nesting therefore holds by construction.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

from keras import ops

MAX_LEVELS = 16

# A plain module global, not thread-local: tf.distribute.MirroredStrategy
# traces each replica's step in its own thread (one at a time), and those
# threads must see the level that the training step selected.
_level_override: list = []
_inner_gradient: list = []


def validate_sparsities(levels: Sequence[float], where: str = "levels") -> list[float]:
    """Checks a list of per-level sparsities and returns it as floats.

    Args:
        levels: fraction of weights removed per level, sparsest first
            (strictly decreasing), each in ``[0, 1)``.
        where: name used in error messages (layer name, argument name).

    Returns:
        The sparsities as a list of Python floats.

    Raises:
        ValueError: if the list is empty, too long, unordered or out of range.
    """
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence):
        raise ValueError(f"{where}: expected a list of sparsities, got {levels!r}")
    out = [float(s) for s in levels]
    if not out:
        raise ValueError(f"{where}: a model needs at least one level, got an empty list")
    if len(out) > MAX_LEVELS:
        raise ValueError(f"{where}: at most {MAX_LEVELS} levels are supported, got {len(out)}")
    for k, s in enumerate(out):
        if not (0.0 <= s < 1.0) or math.isnan(s):
            raise ValueError(
                f"{where}: level {k} has sparsity {s}; a sparsity is the fraction of "
                "weights removed and must lie in [0, 1)"
            )
    for k in range(1, len(out)):
        if not out[k] < out[k - 1]:
            raise ValueError(
                f"{where}: levels must be ordered sparsest first with strictly "
                f"decreasing sparsity; level {k - 1} has {out[k - 1]} and level {k} "
                f"has {out[k]}"
            )
    return out


def default_loss_weights(sparsities: Sequence[float]) -> list[float]:
    """REDS loss weights: sqrt of each level's parameter fraction, normalised.

    Args:
        sparsities: per-level sparsities, sparsest first.

    Returns:
        One weight per level, summing to 1.
    """
    raw = [math.sqrt(1.0 - s) for s in sparsities]
    total = sum(raw)
    return [r / total for r in raw]


def current_override():
    """Returns the level forced by :func:`level_override`, or ``None``."""
    return _level_override[-1] if _level_override else None


@contextlib.contextmanager
def level_override(level) -> Iterator[None]:
    """Forces every sub-network layer called inside to run at ``level``.

    Used while tracing a training step, where each level's forward pass must
    be built into the same graph. ``level`` may be a Python int or a scalar
    int32 tensor (sandwich sampling draws levels at random inside the graph).
    """
    _level_override.append(level)
    try:
        yield
    finally:
        _level_override.pop()


def current_inner_gradient() -> float | None:
    """Returns the scale set by :func:`inner_gradient`, or ``None``."""
    return _inner_gradient[-1][0] if _inner_gradient else None


def current_shared_gradient() -> float | None:
    """Returns the ``shared`` scale set by :func:`inner_gradient`, or ``None``."""
    return _inner_gradient[-1][1] if _inner_gradient else None


def scale_gradient(weights, inner, scale):
    """``weights`` unchanged in value, with the gradient of the ``inner`` (0/1) entries times ``scale``.

    The one mechanism behind `inner_gradient` (levels) and LCS's
    ``SubspaceModel(inner_gradient=)`` (continuous α).
    """
    return weights - (1.0 - scale) * inner * (weights - ops.stop_gradient(weights))


@contextlib.contextmanager
def inner_gradient(scale: float, shared: float = 1.0) -> Iterator[None]:
    """Scales the gradient a level's loss sends to the weights of smaller levels.

    Inside the context, the forward pass of level ``k`` uses every weight of
    levels ``< k`` with its value unchanged but its gradient multiplied by
    ``scale``; the weights that level ``k`` adds get the full gradient. ``1``
    is plain gradient routing; ``0`` gives each weight only the gradient of
    the smallest level that contains it, so the sparsest level is trained as
    if it were alone and larger levels learn what they add on top.

    A layer whose weights are all in level 0 (kept dense in every level,
    e.g. depthwise layers left out of ``nest(layers=...)``) serves every
    level alike; the gradient that levels above 0 send it is multiplied by
    ``shared`` instead (``1`` by default: such layers follow all levels).
    """
    _inner_gradient.append((float(scale), float(shared)))
    try:
        yield
    finally:
        _inner_gradient.pop()
