# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Global average pooling as an AVERAGE_POOL_2D for TFLite Micro.

TensorFlow converts ``GlobalAveragePooling2D`` into ``MEAN``. TFLite Micro's
int8 ``MEAN`` always takes its generic reduction path (an index computation
per input element, ~170 Cortex-M4 instructions per element: about a third of
the quickstart CNN's whole ``Invoke()``), and CMSIS-NN has no kernel for it.
The same average over a static ``H x W`` map as ``AVERAGE_POOL_2D`` (filter
``H x W``, VALID) followed by ``RESHAPE`` runs in TFLM's pooling kernel, which
calls CMSIS-NN's ``arm_avgpool_s8`` on Cortex-M.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_subnets")
class GlobalAveragePoolingAsPool(keras.layers.Layer):
    """``GlobalAveragePooling2D`` (channels last, static H and W) computed by
    an average pool over the whole map, so TFLite emits ``AVERAGE_POOL_2D``.

    Args:
        pool_size: ``(H, W)`` of the input map.
        keepdims: as ``GlobalAveragePooling2D``.
    """

    def __init__(self, pool_size: tuple[int, int], keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = tuple(int(s) for s in pool_size)
        self.keepdims = bool(keepdims)

    def call(self, inputs):
        pooled = keras.ops.average_pool(inputs, self.pool_size, strides=self.pool_size, padding="valid")
        if self.keepdims:
            return pooled
        return keras.ops.reshape(pooled, (-1, pooled.shape[-1]))

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "keepdims": self.keepdims}


def as_average_pool(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The `GlobalAveragePoolingAsPool` replacing ``layer``, or None to keep it.

    Only a channels-last ``GlobalAveragePooling2D`` whose input map has a
    static size is replaced; anything else (1-D pooling, dynamic shapes,
    channels first) keeps TensorFlow's own lowering.
    """
    if type(layer) is not keras.layers.GlobalAveragePooling2D or layer.data_format != "channels_last":
        return None
    shape = tuple(layer.input.shape)
    if len(shape) != 4 or shape[1] is None or shape[2] is None:
        return None
    return GlobalAveragePoolingAsPool((shape[1], shape[2]), keepdims=layer.keepdims, name=layer.name)


def with_average_pool(model: keras.Model) -> keras.Model:
    """A copy of a plain Keras ``model`` whose global average pooling layers
    are `GlobalAveragePoolingAsPool`, with the same weights and outputs.

    For users converting a plain model with TensorFlow themselves (and for
    benchmarks that compare against such a model with the same pooling).
    """
    def clone(layer):
        return as_average_pool(layer) or layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
