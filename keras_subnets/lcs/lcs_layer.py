# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Behaviour shared by the LCS versions of weight layers."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_subnets.layers.weight_layer import WeightLayerMixin
from keras_subnets.lcs import coordinates as alpha_lib
from keras_subnets.levels import scale_gradient


def fake_quantize(weights, bits):
    """Symmetric per-tensor fake quantization with a straight-through gradient.

    The forward value is ``round(w / s)·s`` with ``s = max|w| / (2^(b−1) − 1)``;
    the gradient is the identity (rounding has zero gradient almost
    everywhere, which would freeze the weights).

    Args:
        weights: float tensor.
        bits: bit width, Python number or float tensor (3..8).
    """
    top = ops.power(2.0, ops.cast(bits, "float32") - 1.0) - 1.0
    scale = ops.maximum(ops.max(ops.abs(weights)), 1e-12) / top
    quantized = ops.clip(ops.round(weights / scale), -top, top) * scale
    return weights + ops.stop_gradient(quantized - weights)


def keep_count(keep, size: int):
    """Weights kept at fraction ``keep``: round(keep·size), at least 1.

    float32 on purpose: `keras_subnets.lcs.export_levels` repeats this count
    in numpy and must get the same integer.
    """
    count = ops.round(ops.cast(keep, "float32") * float(size))
    return ops.cast(ops.clip(count, 1.0, float(size)), "int32")


def keep_count_numpy(keep: float, size: int) -> int:
    count = np.round(np.float32(keep) * np.float32(size))
    return int(np.clip(count, 1, size))


def prefix_width(fraction, size: int):
    """Units kept of ``size`` at width ``fraction``: round(fraction·size), at least 1."""
    width = ops.round(ops.cast(fraction, "float32") * float(size))
    return ops.clip(width, 1.0, float(size))


def prefix_width_numpy(fraction: float, size: int) -> int:
    return int(np.clip(np.round(np.float32(fraction) * np.float32(size)), 1, size))


def top_k_mask(weights, keep):
    """1 for the round(keep·N) largest |w| of the whole tensor, else 0 (no gradient).

    ``weights`` may also be any non-negative ranking of the same shape.
    """
    return top_k_masks(weights, [keep])[0]


def top_k_masks(weights, keeps) -> list:
    """`top_k_mask` for several kept fractions, sorting ``|weights|`` once."""
    magnitude = ops.abs(weights)
    flat = ops.reshape(magnitude, (-1,))
    size = int(flat.shape[0])
    descending = ops.stop_gradient(ops.flip(ops.sort(flat), axis=0))
    return [
        ops.cast(ops.greater_equal(magnitude, ops.take(descending, keep_count(keep, size) - 1)), weights.dtype)
        for keep in keeps
    ]


def cosine_squared(a, b):
    """cos² of the angle between two tensors taken as flat vectors."""
    a = ops.reshape(a, (-1,))
    b = ops.reshape(b, (-1,))
    dot = ops.sum(a * b)
    return dot * dot / (ops.sum(a * a) * ops.sum(b * b) + 1e-12)


class LcsLayerMixin(WeightLayerMixin):
    """A weight layer whose weights are a point or a line of a compressible subspace.

    The LCS specialisation of `keras_subnets.layers.weight_layer.WeightLayerMixin`
    (nested layers are the other): a pass uses the weights at α.

    Takes the Keras layer's arguments plus the LCS ones (documented in
    `LcsDense`). A subclass also derives from a Keras weight layer and provides
    ``_structured_masks(fraction)`` (the structured kernel and bias masks at
    a width fraction) and ``_units``.

    Variables added to the parent's:
        kernel_end, bias_end: ``variant="line"`` only; the α = 1 endpoint
            (``kernel``/``bias`` are the α = 0 endpoint).
        alpha: float32 scalar; the α used outside training.
        order, order_frozen: ``unstructured`` points only; once
            ``order_frozen`` is 1 the top-k ranks ``order`` (|w| when it was
            frozen) instead of the current |w|, so every α's mask stays put.
    """

    def __init__(
        self,
        *args,
        compression: str = "unstructured",
        variant: str = "point",
        min_bits: int = 3,
        max_bits: int = 8,
        regularization: float = 1.0,
        structured_inputs: bool = False,
        structured_outputs: bool = True,
        input_tile: int = 1,
        **kwargs,
    ):
        # The Keras layer's own arguments (units, or filters and kernel_size, ...) pass through.
        super().__init__(*args, **kwargs)
        self._init_lcs(compression, variant, min_bits, max_bits, regularization,
                       structured_inputs, structured_outputs, input_tile)

    def _init_lcs(
        self,
        compression: str,
        variant: str,
        min_bits: int,
        max_bits: int,
        regularization: float,
        structured_inputs: bool,
        structured_outputs: bool,
        input_tile: int,
    ) -> None:
        name = getattr(self, "name", type(self).__name__)
        if compression not in alpha_lib.KINDS:
            raise ValueError(
                f"layer '{name}': unknown compression {compression!r}; expected one of {alpha_lib.KINDS}"
            )
        if variant not in alpha_lib.VARIANTS:
            raise ValueError(f"layer '{name}': unknown variant {variant!r}; expected one of {alpha_lib.VARIANTS}")
        self.compression = compression
        self.variant = variant
        self.min_bits, self.max_bits = alpha_lib.validate_bits(min_bits, max_bits, where=f"layer '{name}'")
        if float(regularization) < 0.0:
            raise ValueError(f"layer '{name}': regularization must be >= 0, got {regularization}")
        self.regularization = float(regularization)
        self.structured_inputs = bool(structured_inputs)
        self.structured_outputs = bool(structured_outputs)
        if int(input_tile) < 1:
            raise ValueError(f"layer '{name}': input_tile must be >= 1, got {input_tile}")
        self.input_tile = int(input_tile)
        self._check_layer_arguments(name)

    def _build_lcs(self) -> None:
        if self.variant == "line":
            # Keras initializers repeat their draw; a copy with a fresh seed
            # gives two independent endpoints, as LCS+L trains from scratch.
            initializer = getattr(self, "depthwise_initializer", None) or self.kernel_initializer
            config = initializer.get_config()
            if "seed" in config:
                initializer = type(initializer).from_config({**config, "seed": None})
            self.kernel_end = self.add_weight(
                name="kernel_end", shape=tuple(self.kernel.shape),
                initializer=initializer, trainable=True,
            )
            if self.use_bias:
                self.bias_end = self.add_weight(
                    name="bias_end", shape=tuple(self.bias.shape),
                    initializer=self.bias_initializer, trainable=True,
                )
        self.alpha = self.add_weight(
            name="alpha", shape=(), initializer=keras.initializers.Constant(1.0),
            dtype="float32", trainable=False,
        )
        if self._has_order():
            self.order = self.add_weight(
                name="order", shape=tuple(self.kernel.shape), initializer="zeros", trainable=False,
            )
            self.order_frozen = self.add_weight(
                name="order_frozen", shape=(), initializer="zeros", dtype="float32", trainable=False,
            )

    def _has_order(self) -> bool:
        # A line's w(α) differs per α, so there is no single ranking to freeze.
        return self.compression == "unstructured" and self.variant == "point"

    def ranking(self):
        """The scores the unstructured top-k ranks: the frozen ``order``, or |w(α)|."""
        kernel, _ = self._line_point(self._state().alpha_for(self.name))
        return self._ranking(kernel)

    def _ranking(self, kernel):
        if not self._has_order():
            return ops.abs(kernel)
        # Tensors, not Variables: JAX refuses a Variable inside a traced where.
        frozen, order = ops.convert_to_tensor(self.order_frozen), ops.convert_to_tensor(self.order)
        return ops.where(ops.greater(frozen, 0.0), order, ops.abs(kernel))

    def freeze_order(self, frozen) -> None:
        """Sets ``order_frozen``; while it is 0 ``order`` follows |w| (called by `SubspaceModel`)."""
        frozen = ops.cast(frozen, "float32")
        order = ops.convert_to_tensor(self.order)  # see _ranking
        self.order.assign(ops.where(ops.greater(frozen, 0.0), order, ops.abs(self.kernel)))
        self.order_frozen.assign(frozen)

    def _state(self) -> alpha_lib.AlphaState:
        forced = alpha_lib.current_override()
        if forced is None:
            return alpha_lib.AlphaState(self.alpha, self.alpha)
        return forced

    def _line_point(self, alpha):
        kernel, bias = self.kernel, self.bias if self.use_bias else None
        if self.variant == "line":
            a = ops.cast(alpha, kernel.dtype)
            kernel = (1.0 - a) * kernel + a * self.kernel_end
            if bias is not None:
                bias = (1.0 - a) * bias + a * self.bias_end
        return kernel, bias

    def _pass_weights(self, training):
        self._regularize(training)
        return self.effective_weights()

    def effective_weights(self):
        """``(kernel, bias)`` the layer computes with at the current α.

        Line interpolation, then the compression: top-k mask (unstructured),
        unit prefix (structured) or fake quantization (bits).
        """
        state = self._state()
        alpha = state.alpha_for(self.name)
        kernel, bias = self._line_point(alpha)
        routed = state.inner is not None and state.inner_gradient != 1.0
        if self.compression == "unstructured":
            if routed:
                mask, inner = top_k_masks(self._ranking(kernel), [state.keep, state.inner[1]])
                kernel = scale_gradient(kernel, inner, state.inner_gradient)
            else:
                mask = top_k_mask(self._ranking(kernel), state.keep)
            kernel = kernel * mask
        elif self.compression == "structured":
            fraction = alpha_lib.width_fraction(ops.cast(alpha, "float32"))
            kernel_mask, bias_mask = self._structured_masks(fraction)
            if routed:
                inner_kernel, inner_bias = self._structured_masks(
                    alpha_lib.width_fraction(ops.cast(state.inner[0], "float32")))
                kernel = scale_gradient(kernel, ops.cast(inner_kernel, kernel.dtype), state.inner_gradient)
                if bias is not None:
                    bias = scale_gradient(bias, ops.cast(inner_bias, bias.dtype), state.inner_gradient)
            kernel = kernel * ops.cast(kernel_mask, kernel.dtype)
            if bias is not None:
                bias = bias * ops.cast(bias_mask, bias.dtype)
        else:
            kernel = fake_quantize(kernel, alpha_lib.bit_width(alpha, self.min_bits, self.max_bits))
        return kernel, bias

    def _prefix(self, fraction, size: int):
        width = prefix_width(fraction, size)
        return ops.cast(ops.less(ops.arange(size, dtype="float32"), width), "float32")

    def _regularize(self, training) -> None:
        # Added on every training forward pass; Keras clears layer losses at
        # the start of each outermost call, so a step counts it once however
        # many α it runs.
        if training and self.variant == "line" and self.regularization > 0.0:
            self.add_loss(self.cosine_regularization())

    def cosine_regularization(self):
        """β·cos²(w₀, w₁) of the kernel endpoints (0 for a point)."""
        if self.variant != "line":
            return ops.zeros(())
        return self.regularization * cosine_squared(self.kernel, self.kernel_end)

    def _saved_variables(self) -> dict:
        found = self._weight_variables()
        if self.variant == "line":
            found["kernel_end"] = self.kernel_end
            if self.use_bias:
                found["bias_end"] = self.bias_end
        found["alpha"] = self.alpha
        if self._has_order():
            found["order"] = self.order
            found["order_frozen"] = self.order_frozen
        return found

    def _lcs_config(self) -> dict:
        return {
            "compression": self.compression,
            "variant": self.variant,
            "min_bits": self.min_bits,
            "max_bits": self.max_bits,
            "regularization": self.regularization,
            "structured_inputs": self.structured_inputs,
            "structured_outputs": self.structured_outputs,
            "input_tile": self.input_tile,
        }

