# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""A functional Keras model that trains a compressible subspace in ``fit``."""

from __future__ import annotations

import keras
from keras import ops

from keras_subnets.lcs import coordinates as alpha_lib
from keras_subnets.lcs.lcs_layer import LcsLayerMixin
from keras_subnets.model_layers import model_layers
from keras_subnets.models.compressed_model import CompressedModel


class _WarmupFromFit(keras.callbacks.Callback):
    """Sets the warm-up length to a fraction of the steps ``fit`` will run."""

    def __init__(self, fraction: float):
        super().__init__()
        self.fraction = fraction

    def on_train_begin(self, logs=None):
        steps, epochs = self.params.get("steps"), self.params.get("epochs")
        if not steps:
            raise ValueError(
                f"model '{self.model.name}': fit does not know its steps per epoch, so the "
                "unstructured warm-up cannot be placed; pass warmup_steps= to SubspaceModel "
                "or steps_per_epoch= to fit"
            )
        self.model.warmup_steps.assign(int(self.fraction * steps * epochs))


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubspaceModel(CompressedModel):
    """Functional model of LCS layers; ``fit`` trains the whole α range.

    Built like any functional model or by `keras_subnets.lcs.subspace`. Each
    training step draws α inside the traced step (`keras.random`), so one
    compiled step serves every α:

    * ``unstructured`` and ``bits``: one α per step, with p = 1/2 an endpoint
      (``alpha_min`` or 1), otherwise uniform in ``[alpha_min, 1]``;
      ``unstructured`` keeps ``α + (1 − α)·max(1 − step/warmup, 0)`` of the
      weights during the warm-up.
    * ``structured``: the sandwich rule, α = 1, α = 0 and ``sandwich``
      uniform draws on the same batch, losses summed.
    * ``sampling="sandwich"`` applies the sandwich rule to every kind (our
      extension; ``unstructured``/``bits`` use ``alpha_min`` as the small
      end): each step trains the most compressed network, the full one and
      ``sandwich`` draws between, at (2 + ``sandwich``)× the step cost.
    * ``inner_gradient=g`` (sandwich only, LCS+P, ``unstructured`` or
      ``structured``): the gradient routing of `keras_subnets.SubnetModel`
      carried to a continuous α. The sandwich's networks are nested (the
      top-k of one point, or unit prefixes), so each pass reaches the
      weights of the next smaller network of the same step at g× the
      gradient and the weights it adds at full gradient. g = 1 is plain
      LCS; small g lets the most compressed networks keep their weights.

    LCS+L's β·cos²(w₀, w₁) arrives through the layers' losses.
    ``evaluate``/``predict`` run at the α of `keras_subnets.lcs.set_alpha`.

    Args:
        *args: ``inputs`` and ``outputs`` as for `keras.Model`.
        alpha_min: smallest α drawn for ``unstructured``/``bits`` (the
            paper's 0.025). With the sandwich, set it to the most compressed
            α you will deploy: every step then trains that network (+5.9
            points at α = 0.1 in docs/benchmarks.md's mini study).
        sandwich: uniform draws per step besides the two endpoints
            (``structured``, or any kind with ``sampling="sandwich"``).
        sampling: ``"lcs"`` (the paper: one α per step for
            ``unstructured``/``bits``, the sandwich for ``structured``) or
            ``"sandwich"`` (the sandwich for every kind).
        draw_spacing: ``"linear"`` (the paper: non-endpoint α uniform) or
            ``"geometric"`` (uniform in log α, so the sparse end gets as many
            draws as the dense end); not for ``structured``, whose α starts at 0.
        stratified_draws: sandwich only: the ``sandwich`` draws of a step
            fall one in each of ``sandwich`` equal strata of the spacing
            (draw i uniform in [i, i + 1)/``sandwich`` before `spread`)
            instead of independently, so every step trains the sparse and
            the dense part of the range and no part goes unvisited for
            several steps.
        inner_gradient: gradient scale on the next smaller network's weights
            (1 = plain LCS); needs the sandwich and LCS+P ``unstructured``
            or ``structured``.
        freeze_order: ``unstructured`` LCS+P only: when the warm-up ends,
            freeze the |w| ranking that every α's top-k reads, so the rest of
            training fine-tunes fixed nested masks (as a pruning schedule
            does) instead of masks that move with every update.
        per_layer_bits: ``bits`` LCS+P only: every layer draws its own α
            (so its own bit width) per step, as LCS allows for a point, so
            mixed-precision networks are trained too.
        warmup_fraction: share of the first ``fit``'s steps spent warming up
            (``unstructured`` only).
        warmup_steps: explicit warm-up length in steps (overrides the
            fraction; 0 = none).
        warmup_power: shape of the ``unstructured`` warm-up ramp (see
            `keras_subnets.lcs.warmup_keep`): 1 = the paper's linear ramp,
            3 = gradual pruning's cubic schedule.
        seed: seed of the α draws.
        **kwargs: passed to `keras.Model`.
    """

    def __init__(
        self,
        *args,
        alpha_min: float = 0.025,
        sandwich: int = 2,
        sampling: str = "lcs",
        draw_spacing: str = "linear",
        stratified_draws: bool = False,
        inner_gradient: float = 1.0,
        freeze_order: bool = False,
        per_layer_bits: bool = False,
        warmup_fraction: float = 0.8,
        warmup_steps: int | None = None,
        warmup_power: float = 1.0,
        seed: int = 1337,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        layers = self._require_layers(self.lcs_layers(), "LCS", "keras_subnets.lcs.subspace(model, kind=...)")
        kinds = {(la.compression, la.variant) for la in layers}
        if len(kinds) != 1:
            raise ValueError(f"model '{self.name}' mixes LCS layers of kinds {sorted(kinds)}")
        self.kind, self.variant = kinds.pop()
        self.alpha_min = alpha_lib.validate_alpha(alpha_min, where=f"model '{self.name}' alpha_min")
        self._set_draws(sandwich, sampling, per_layer_bits, draw_spacing, stratified_draws)
        self._set_gradient_routing(freeze_order, inner_gradient)
        self._check_per_layer_bits()
        self._set_warmup(warmup_fraction, warmup_steps, warmup_power)
        self.seed = int(seed)
        self._alpha_seed = keras.random.SeedGenerator(self.seed)
        self._add_warmup_state()

    def _set_draws(self, sandwich, sampling, per_layer_bits, draw_spacing, stratified_draws):
        """How each step draws its α: sandwich endpoints, sampling scheme, spacing, stratification."""
        if int(sandwich) < 0:
            raise ValueError(f"model '{self.name}': sandwich must be >= 0, got {sandwich}")
        self.sandwich = int(sandwich)
        if sampling not in ("lcs", "sandwich"):
            raise ValueError(f"model '{self.name}': sampling must be 'lcs' or 'sandwich', got {sampling!r}")
        self.sampling = sampling
        self.per_layer_bits = bool(per_layer_bits)
        if draw_spacing not in alpha_lib.SPACINGS:
            raise ValueError(
                f"model '{self.name}': draw_spacing must be one of {alpha_lib.SPACINGS}, got {draw_spacing!r}"
            )
        if draw_spacing == "geometric" and (self.kind == "structured" or self.alpha_min == 0.0):
            raise ValueError(
                f"model '{self.name}': draw_spacing='geometric' needs alpha_min > 0, but "
                + ("structured subspaces start at α = 0" if self.kind == "structured" else "alpha_min is 0")
            )
        self.draw_spacing = draw_spacing
        self.stratified_draws = bool(stratified_draws)
        if self.stratified_draws and not (self.kind == "structured" or sampling == "sandwich"):
            raise ValueError(
                f"model '{self.name}': stratified_draws spreads the sandwich's draws of a step; "
                "use sampling='sandwich' (or kind='structured')"
            )

    def _set_gradient_routing(self, freeze_order, inner_gradient):
        """freeze_order and inner_gradient, refused where the subspace has no nested networks to route between."""
        self.freeze_order = bool(freeze_order)
        if self.freeze_order and (self.kind, self.variant) != ("unstructured", "point"):
            raise ValueError(
                f"model '{self.name}': freeze_order freezes the |w| ranking of an unstructured LCS+P "
                f"point; got kind={self.kind!r}, variant={self.variant!r}"
            )
        self.inner_gradient = self._unit_interval("inner_gradient", inner_gradient)
        if self.inner_gradient != 1.0:
            if self.kind == "bits" or self.variant != "point":
                raise ValueError(
                    f"model '{self.name}': inner_gradient routes gradients between nested networks, which "
                    f"only LCS+P 'unstructured' and 'structured' subspaces have; got kind={self.kind!r}, "
                    f"variant={self.variant!r}"
                )
            if not (self.kind == "structured" or self.sampling == "sandwich"):
                raise ValueError(
                    f"model '{self.name}': inner_gradient needs several networks per step; use "
                    "sampling='sandwich'"
                )

    def _check_per_layer_bits(self):
        """per_layer_bits needs one α per layer and step: LCS 'bits' points under sampling='lcs'."""
        if self.per_layer_bits and self.sampling == "sandwich":
            raise ValueError(
                f"model '{self.name}': per_layer_bits draws one α per layer and step, which the sandwich's "
                "fixed endpoints do not; use sampling='lcs' with per_layer_bits"
            )
        if self.per_layer_bits and (self.kind, self.variant) != ("bits", "point"):
            raise ValueError(
                f"model '{self.name}': per_layer_bits applies to kind='bits', variant='point' only, "
                f"got kind={self.kind!r}, variant={self.variant!r}"
            )

    def _set_warmup(self, warmup_fraction, warmup_steps, warmup_power):
        """The ``unstructured`` warm-up ramp: its share of training (or explicit steps) and its power."""
        self.warmup_fraction = self._unit_interval("warmup_fraction", warmup_fraction)
        if warmup_steps is not None and int(warmup_steps) < 0:
            raise ValueError(f"model '{self.name}': warmup_steps must be >= 0, got {warmup_steps}")
        self.fixed_warmup_steps = None if warmup_steps is None else int(warmup_steps)
        if not float(warmup_power) >= 1.0:
            raise ValueError(f"model '{self.name}': warmup_power must be >= 1, got {warmup_power}")
        self.warmup_power = float(warmup_power)

    def _add_warmup_state(self):
        """The step counter and the warm-up length as model weights."""
        # Both live in the model so .keras files and checkpoints carry the
        # warm-up position and a resumed fit continues it.
        self.lcs_step = self.add_weight(
            name="lcs_step", shape=(), initializer="zeros", dtype="int32", trainable=False,
        )
        self.warmup_steps = self.add_weight(
            name="warmup_steps", shape=(),
            initializer=keras.initializers.Constant(self.fixed_warmup_steps or 0),
            dtype="int32", trainable=False,
        )

    def lcs_layers(self) -> list:
        """Every LCS weight layer of the model."""
        return model_layers(self, LcsLayerMixin)

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        # Placed once, by the first fit: later fits continue the same schedule.
        if self.kind == "unstructured" and self.fixed_warmup_steps is None \
                and int(ops.convert_to_numpy(self.warmup_steps)) == 0 and self.warmup_fraction > 0:
            callbacks.append(_WarmupFromFit(self.warmup_fraction))
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def call(self, inputs, training=None, mask=None, **kwargs):
        if not training or alpha_lib.current_override() is not None:
            return super().call(inputs, training=training, mask=mask, **kwargs)
        if self.freeze_order:
            # Without a warm-up there is no trained ranking to freeze.
            frozen = ops.logical_and(ops.greater(self.warmup_steps, 0),
                                     ops.greater_equal(self.lcs_step, self.warmup_steps))
            for layer in self.lcs_layers():
                layer.freeze_order(frozen)
        if self._sandwiched():
            # The sandwich's widest network is fit's own forward pass; its
            # draws are made here so this pass knows the next smaller one.
            draws = self._draw_sandwich()
            object.__setattr__(self, "_pending_draws", draws)
            with alpha_lib.alpha_override(1.0, 1.0, self._inner(draws[-1]), self.inner_gradient):
                return super().call(inputs, training=training, mask=mask, **kwargs)
        else:
            alpha = alpha_lib.sample_alpha(self._alpha_seed, self.alpha_min, spacing=self.draw_spacing)
            keep = self._keep(alpha)
            if self.per_layer_bits:
                names = [la.name for la in self.lcs_layers()]
                draws = alpha_lib.sample_alpha(self._alpha_seed, self.alpha_min, shape=(len(names),),
                                               spacing=self.draw_spacing)
                alpha = {"": alpha, **{name: draws[i] for i, name in enumerate(names)}}
            state = (alpha, keep)
        with alpha_lib.alpha_override(*state):
            return super().call(inputs, training=training, mask=mask, **kwargs)

    def _sandwiched(self) -> bool:
        return self.kind == "structured" or self.sampling == "sandwich"

    def _draw_sandwich(self) -> list:
        """The sandwich's networks below α = 1, smallest first."""
        # Structured's smallest network is α = 0 (a quarter of the units); the
        # others' is alpha_min, the most compressed α the subspace serves.
        low = 0.0 if self.kind == "structured" else self.alpha_min
        draws = [ops.convert_to_tensor(low, "float32")]
        if self.sandwich:
            uniform = keras.random.uniform((self.sandwich,), seed=self._alpha_seed)
            if self.stratified_draws:
                uniform = (ops.arange(self.sandwich, dtype="float32") + uniform) / self.sandwich
            # Sorted so each pass's next smaller network is the one before it.
            ordered = alpha_lib.spread(ops.sort(uniform), low, self.draw_spacing)
            draws += [ordered[i] for i in range(self.sandwich)]
        return draws

    def _keep(self, alpha):
        if self.kind == "unstructured":
            return alpha_lib.warmup_keep(alpha, self.lcs_step, self.warmup_steps, self.warmup_power)
        return alpha

    def _inner(self, alpha) -> tuple | None:
        if self.inner_gradient == 1.0:
            return None
        return (alpha, self._keep(alpha))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The drawn α's loss, or the sandwich's summed losses (training)."""
        if not training:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        self.lcs_step.assign_add(1)
        if not self._sandwiched():
            return super().compute_loss(x, y, y_pred, sample_weight, training=True)
        extra = []
        draws = getattr(self, "_pending_draws", None)
        object.__setattr__(self, "_pending_draws", None)
        if draws is None:
            draws = self._draw_sandwich()
        for i, alpha in enumerate(draws):
            inner = self._inner(draws[i - 1]) if i else None
            with alpha_lib.alpha_override(alpha, self._keep(alpha), inner, self.inner_gradient):
                extra.append(self(x, training=True))
        # Layer losses (the cos² term) are read once, after the last pass:
        # each outermost call replaces them, so the sandwich counts them once.
        total = super().compute_loss(x, y, y_pred, sample_weight, training=True)
        for y_alpha in extra:
            # Keras' own compiled loss without the layer losses.
            total = total + self._compile_loss(y, y_alpha, sample_weight)
        return total

    TRAINING_KEY = "lcs_training"

    def _training_config(self) -> dict:
        return {
            "alpha_min": self.alpha_min,
            "sandwich": self.sandwich,
            "sampling": self.sampling,
            "draw_spacing": self.draw_spacing,
            "stratified_draws": self.stratified_draws,
            "freeze_order": self.freeze_order,
            "inner_gradient": self.inner_gradient,
            "per_layer_bits": self.per_layer_bits,
            "warmup_fraction": self.warmup_fraction,
            "warmup_steps": self.fixed_warmup_steps,
            "warmup_power": self.warmup_power,
            "seed": self.seed,
        }
