# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The compression coordinate α of a learned compressible subspace (LCS).

α ∈ [0, 1] names one network of the subspace: α = 1 is the least compressed
(all weights, full width, 8 bits) and α = 0 the most. Each compression kind
maps α to its own knob (`keep_fraction`, `width_fraction`, `bit_width`).

During training the α of a step is a Python-level override read while
tracing (like `keras_subnets.levels.level_override`), so the α drawn inside
the traced step reaches every layer; outside training each layer reads its
own ``alpha`` variable, set by `keras_subnets.lcs.set_alpha`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import keras
from keras import ops

KINDS = ("unstructured", "structured", "bits")
VARIANTS = ("point", "line")
MIN_BITS, MAX_BITS = 3, 8
# The narrowest structured network keeps a quarter of the units (LCS, §3.3).
MIN_WIDTH = 0.25

# A plain module global for the same reason as levels._level_override:
# MirroredStrategy traces replicas in separate threads that must all see it.
_alpha_override: list = []


@dataclass(frozen=True)
class AlphaState:
    """What a layer reads during one forward pass.

    Attributes:
        alpha: the subspace coordinate (line position, width, bit width,
            per-level BatchNorm bin); or, when every layer draws its own bit
            width, ``{layer name: α}`` with the model-wide α under ``""``.
        keep: fraction of weights an ``unstructured`` layer keeps; equals
            ``alpha`` except during the warm-up of training.
        inner: ``(alpha, keep)`` of the next smaller network trained on the
            same batch, whose weights this pass reaches at ``inner_gradient``
            times the gradient; ``None`` = plain gradients.
        inner_gradient: the gradient scale on those weights.
    """

    alpha: object
    keep: object
    inner: tuple | None = None
    inner_gradient: float = 1.0

    def alpha_for(self, name: str):
        """The α of the layer called ``name``."""
        if isinstance(self.alpha, dict):
            return self.alpha.get(name, self.alpha[""])
        return self.alpha


def validate_alpha(alpha, where: str = "alpha") -> float:
    """Checks that a Python number lies in [0, 1] and returns it as a float.

    Raises:
        ValueError: naming ``where`` when it does not.
    """
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a number in [0, 1], got {alpha!r}") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{where} must lie in [0, 1] (0 = most compressed, 1 = dense), got {alpha}")
    return value


def validate_bits(min_bits: int, max_bits: int, where: str = "bits") -> tuple[int, int]:
    """Checks a bit-width range against the supported 3..8 bits."""
    lo, hi = int(min_bits), int(max_bits)
    if not MIN_BITS <= lo <= hi <= MAX_BITS:
        raise ValueError(
            f"{where}: bit widths must satisfy {MIN_BITS} <= min_bits <= max_bits <= "
            f"{MAX_BITS}, got min_bits={min_bits}, max_bits={max_bits}"
        )
    return lo, hi


def current_override() -> AlphaState | None:
    """The state forced by `alpha_override`, or ``None``."""
    return _alpha_override[-1] if _alpha_override else None


@contextlib.contextmanager
def alpha_override(alpha, keep=None, inner=None, inner_gradient: float = 1.0) -> Iterator[None]:
    """Forces every LCS layer called inside to run at ``alpha``.

    Args:
        alpha: Python float or scalar float tensor (drawn inside the graph).
        keep: unstructured kept fraction; defaults to ``alpha``.
        inner: ``(alpha, keep)`` of a smaller network of the same step whose
            weights get ``inner_gradient``× the gradient (see `AlphaState`).
        inner_gradient: that gradient scale.
    """
    # Tensors are drawn inside the graph by the model and cannot be checked here.
    if not ops.is_tensor(alpha) and not isinstance(alpha, dict):
        alpha = validate_alpha(alpha)
    _alpha_override.append(
        AlphaState(alpha, alpha if keep is None else keep, inner, float(inner_gradient))
    )
    try:
        yield
    finally:
        _alpha_override.pop()


SPACINGS = ("linear", "geometric")


def spread(u, alpha_min: float, spacing: str = "linear"):
    """Maps uniform draws ``u`` in [0, 1) onto [``alpha_min``, 1].

    ``"linear"`` is uniform in α; ``"geometric"`` is uniform in log α (equal
    shares of draws for 0.025–0.05, 0.05–0.1, …), so the sparse end, where
    networks differ most from one α to the next, is trained as often as the
    dense end.
    """
    if spacing == "geometric":
        return ops.exp(math.log(alpha_min) * (1.0 - u))
    return alpha_min + (1.0 - alpha_min) * u


def sample_alpha(seed, alpha_min: float = 0.025, shape=(), spacing: str = "linear"):
    """Draws α as LCS does: an endpoint with p = 0.5, else uniform.

    With probability 1/2 the draw is an endpoint (``alpha_min`` or 1, equally
    likely), otherwise uniform in ``[alpha_min, 1]`` (in log α with
    ``spacing="geometric"``, see `spread`). Endpoints are drawn this often
    because they are the networks most likely to be deployed.

    Args:
        seed: a `keras.random.SeedGenerator` (works inside traced steps).
        alpha_min: the most compressed α trained.
        shape: shape of the draw (``()`` for one α per step).
        spacing: ``"linear"`` (the paper) or ``"geometric"``.

    Returns:
        float32 tensor of ``shape``.
    """
    u = keras.random.uniform((3,) + tuple(shape), seed=seed)
    endpoint = ops.where(ops.less(u[1], 0.5), alpha_min, 1.0)
    inner = spread(u[2], alpha_min, spacing)
    return ops.cast(ops.where(ops.less(u[0], 0.5), endpoint, inner), "float32")


def warmup_keep(alpha, step, warmup_steps, power: float = 1.0):
    """Unstructured warm-up: kept fraction ``α + (1 − α)·max(1 − step/warmup, 0)^power``.

    Early in training every network is nearly dense and the top-k of the
    still-random weights is meaningless; the kept fraction therefore starts at
    1 and reaches α when ``step`` reaches ``warmup_steps`` (0 = no warm-up).
    ``power`` 1 is the paper's linear ramp; 3 is the cubic schedule of
    gradual pruning (Zhu & Gupta, `keras_subnets.schedules.PolynomialDecay`),
    which nears α early and leaves the networks longer at their own size.
    """
    alpha = ops.cast(alpha, "float32")
    step = ops.cast(step, "float32")
    warmup = ops.cast(warmup_steps, "float32")
    ramp = ops.maximum(1.0 - step / ops.maximum(warmup, 1.0), 0.0) ** float(power)
    ramp = ops.where(ops.greater(warmup, 0.0), ramp, 0.0)
    return alpha + (1.0 - alpha) * ramp


def width_fraction(alpha):
    """Structured: fraction of units kept, ``0.25 + 0.75·α``."""
    return MIN_WIDTH + (1.0 - MIN_WIDTH) * alpha


def bit_width(alpha, min_bits: int = MIN_BITS, max_bits: int = MAX_BITS):
    """Bits at α: ``min_bits + floor(α·(max − min + 1))``, capped at ``max_bits``.

    Every bit width owns an equal share of [0, 1]; α = 1 gives ``max_bits``.
    Works on Python floats and tensors.
    """
    span = max_bits - min_bits + 1
    if isinstance(alpha, (int, float)):
        return min(min_bits + int(math.floor(alpha * span)), max_bits)
    return ops.minimum(min_bits + ops.floor(ops.cast(alpha, "float32") * span), float(max_bits))
