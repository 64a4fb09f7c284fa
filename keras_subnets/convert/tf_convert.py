# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""TensorFlow's converter on each level's plain model, and merging the levels' graphs.

One job of `keras_subnets.convert.convert`: calibrate and convert every
level's plain model with TensorFlow, check the levels built the same graph
and unite their int8 activation ranges (docs/architecture.md §5, step 2).
"""

from __future__ import annotations

import contextlib
import os
import warnings

import keras
import numpy as np

from keras_subnets import registry
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.errors import ConversionError
from keras_subnets.model_layers import model_layers


def tf_failure(model: keras.Model, level: int, err: Exception) -> str:
    """TensorFlow's converter error, naming the kept-dense layers it may have failed on."""
    first = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)
    message = f"TensorFlow's converter failed on level {level}: {first[:400]}"
    kept = [la for la in model_layers(model)
            if la.weights and not isinstance(la, keras.Model) and registry.lookup(la, exact=False) is None
            and not isinstance(la, keras.layers.BatchNormalization)]
    if kept:
        names = ", ".join(f"'{la.name}' ({type(la).__name__})" for la in kept)
        message += (f". Layers kept dense without a sub-network version: {names}; TensorFlow must lower them "
                    "to builtin TFLite operators (a recurrent layer needs unroll=True and a fixed batch size)")
    return message


def representative_samples(data, input_shape, count: int) -> list[np.ndarray]:
    """Up to ``count`` single-sample float32 arrays shaped like the model input."""
    if data is None:
        raise ConversionError("int8 conversion needs representative_data (a few hundred input samples)")
    if callable(data):
        data = data()
    if isinstance(data, np.ndarray):
        data = [data]
    samples = []
    expected = tuple(d for d in input_shape[1:])
    for batch in data:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        arr = np.asarray(keras.ops.convert_to_numpy(batch), dtype=np.float32)
        if arr.shape[1:] != expected and arr.shape == expected:
            arr = arr[None]
        if arr.ndim != len(expected) + 1 or tuple(arr.shape[1:]) != expected:
            raise ConversionError(
                f"representative_data has samples of shape {arr.shape[1:] if arr.ndim else arr.shape}; "
                f"the model input '{input_shape}' needs {expected}"
            )
        for sample in arr:
            samples.append(sample[None])
            if len(samples) >= count:
                return samples
    if not samples:
        raise ConversionError("representative_data yielded no samples")
    return samples


def tf_convert(model: keras.Model, samples: list[np.ndarray] | None) -> bytes:
    """TensorFlow's TFLite conversion of a plain model: int8 (calibrated on ``samples``) or float32 (None)."""
    import io

    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if samples is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s] for s in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    # Keras's SavedModel export prints every captured tensor and the MLIR
    # quantizer logs from C++; keep the user's terminal readable. Failures still
    # raise Python exceptions with their messages.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), _quiet_fd(2):
        warnings.simplefilter("ignore")
        return converter.convert()


@contextlib.contextmanager
def _quiet_fd(fd: int):
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def union_ranges(models: list, subgraph_index: int = 0) -> None:
    """Widens each activation's int8 range in models[-1] to cover every level's."""
    base = models[-1].subgraphs[subgraph_index]
    for t_index, tensor in enumerate(base.tensors):
        if fb.tensor_data(models[-1], tensor) is not None:
            continue
        params = [fb.quant_params(m.subgraphs[subgraph_index].tensors[t_index]) for m in models]
        if any(p is None for p in params) or any(len(p[0]) != 1 for p in params):
            continue
        if all(np.array_equal(p[0], params[0][0]) and np.array_equal(p[1], params[0][1]) for p in params):
            continue
        lo = min(float((-128 - int(z[0])) * s[0]) for s, z in params)
        hi = max(float((127 - int(z[0])) * s[0]) for s, z in params)
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        scale = np.float32((hi - lo) / 255.0)
        zero_point = int(np.clip(np.round(-128 - lo / scale), -128, 127))
        fb.set_quant_params(tensor, scale, zero_point)


def check_same_graph(models: list) -> None:
    """Refuses levels whose converted graphs differ (they must share one flatbuffer's operators)."""
    ref = models[-1].subgraphs[0]
    for k, m in enumerate(models[:-1]):
        sg = m.subgraphs[0]
        same = len(sg.operators) == len(ref.operators) and len(sg.tensors) == len(ref.tensors) and all(
            fb.op_name(m, a) == fb.op_name(models[-1], b) and list(a.inputs) == list(b.inputs)
            for a, b in zip(sg.operators, ref.operators, strict=True))
        if not same:
            raise ConversionError(
                f"TensorFlow's converter built a different graph for level {k} than for the densest "
                "level; the levels cannot share one flatbuffer"
            )
