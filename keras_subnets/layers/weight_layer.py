# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""What the nested and the LCS versions of a weight layer share.

`WeightLayerMixin` is the base of `SubnetLayerMixin` (nested levels) and
`keras_subnets.lcs.LcsLayerMixin` (a compressible subspace): the argument
checks, the saved kernel and bias, and ``call`` = the layer's operation on
the weights of this pass, then bias and activation. Each specialisation
says which weights a pass uses (`_pass_weights`: masked at the level, or
at α); `DenseOperation`, `ConvOperation` and `DepthwiseConvOperation` say
what the Keras layer computes with them, for any rank.
"""

from __future__ import annotations

from keras import ops

from keras_subnets.layers.named_variables import NamedVariablesMixin


class WeightLayerMixin(NamedVariablesMixin):
    """A Keras weight layer whose weights depend on a level or on α.

    A subclass provides ``_pass_weights(training)`` (the ``(kernel, bias)``
    of this pass, ``bias`` ``None`` without one) and, through an operation
    mixin, ``_units`` and ``_apply(inputs, kernel)``.
    """

    def _check_layer_arguments(self, name: str) -> None:
        if getattr(self, "data_format", "channels_last") != "channels_last":
            raise ValueError(f"layer '{name}': only data_format='channels_last' is supported")
        groups = getattr(self, "groups", 1)
        if groups != 1:
            raise ValueError(f"layer '{name}': grouped convolution (groups={groups}) is not supported")

    def _pass_weights(self, training):
        raise NotImplementedError

    def call(self, inputs, training=None):
        kernel, bias = self._pass_weights(training)
        outputs = self._apply(inputs, kernel)
        if bias is not None:
            outputs = ops.add(outputs, bias)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def _weight_variables(self) -> dict:
        """``kernel`` and ``bias`` as saved (a quantized kernel's float variable)."""
        found = {"kernel": self._kernel if hasattr(self, "_kernel") else self.kernel}
        if self.use_bias:
            found["bias"] = self.bias
        return found


class DenseOperation:
    """``keras.layers.Dense``'s operation."""

    @property
    def _units(self) -> int:
        return self.units

    def _apply(self, inputs, kernel):
        return ops.matmul(inputs, kernel)


class ConvOperation:
    """A convolution of any rank (``keras.layers.Conv1D``, ``Conv2D``, ...)."""

    @property
    def _units(self) -> int:
        return self.filters

    def _apply(self, inputs, kernel):
        padding = self.padding
        if padding == "causal":  # Conv1D only; Keras's Conv1D pads the same way before a valid convolution.
            inputs = ops.pad(inputs, self._compute_causal_padding())
            padding = "valid"
        return ops.conv(inputs, kernel, strides=list(self.strides), padding=padding,
                        dilation_rate=self.dilation_rate, data_format=self.data_format)


class DepthwiseConvOperation:
    """A depthwise convolution of any rank."""

    @property
    def _units(self) -> int:
        return int(self.kernel.shape[-2]) * self.depth_multiplier

    def _apply(self, inputs, kernel):
        return ops.depthwise_conv(inputs, kernel, strides=self.strides, padding=self.padding,
                                  dilation_rate=self.dilation_rate, data_format=self.data_format)
