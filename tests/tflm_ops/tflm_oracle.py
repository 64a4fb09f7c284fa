# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Single-op TFLite models run by TFLM's own reference kernels: the oracle for
the tflm_ops tests.

A Keras 3 model with one Dense / Conv2D / DepthwiseConv2D layer is converted
(float32, or full-integer int8 with int8 input/output); the weight, bias and
per-channel scale buffers are then edited in place in the flatbuffer bytes
(numpy views from the generated schema module) so one conversion serves every
level and every format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tflite_micro.python.tflite_micro import runtime  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema_fb  # noqa: E402

_OPS = {
    schema_fb.BuiltinOperator.FULLY_CONNECTED: "fc",
    schema_fb.BuiltinOperator.CONV_2D: "conv",
    schema_fb.BuiltinOperator.DEPTHWISE_CONV_2D: "depthwise_conv",
}


@dataclass
class LayerSpec:
    op: str  # "fc", "conv", "depthwise_conv"
    input_shape: tuple  # including batch
    units: int = 0  # fc units / conv filters
    kernel: tuple = (1, 1)
    strides: tuple = (1, 1)
    dilation: tuple = (1, 1)
    padding: str = "valid"
    depth_multiplier: int = 1
    activation: str | None = None
    input_range: tuple = (-1.0, 1.0)  # representative data range -> input zero point
    per_tensor: bool = False  # FC only: one weight scale for the whole tensor
    seed: int = 0


def _keras_model(spec: LayerSpec):
    import keras

    keras.utils.set_random_seed(spec.seed)
    inp = keras.Input(shape=spec.input_shape[1:], batch_size=spec.input_shape[0])
    if spec.op == "fc":
        layer = keras.layers.Dense(spec.units, activation=spec.activation, bias_initializer="random_normal")
    elif spec.op == "conv":
        layer = keras.layers.Conv2D(
            spec.units,
            spec.kernel,
            strides=spec.strides,
            padding=spec.padding,
            dilation_rate=spec.dilation,
            activation=spec.activation,
            bias_initializer="random_normal",
        )
    else:
        layer = keras.layers.DepthwiseConv2D(
            spec.kernel,
            strides=spec.strides,
            padding=spec.padding,
            dilation_rate=spec.dilation,
            depth_multiplier=spec.depth_multiplier,
            activation=spec.activation,
            bias_initializer="random_normal",
        )
    return keras.Model(inp, layer(inp))


def convert(spec: LayerSpec, int8: bool) -> bytearray:
    import tensorflow as tf

    model = _keras_model(spec)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        rng = np.random.default_rng(spec.seed + 1)
        lo, hi = spec.input_range

        def rep():
            for _ in range(8):
                yield [rng.uniform(lo, hi, size=spec.input_shape).astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        if spec.per_tensor:
            conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    return bytearray(conv.convert())


class TfliteLayer:
    """Views into one converted single-op model.  `weights`, `bias` and
    `w_scales` are writable numpy views into `self.model`."""

    def __init__(self, model: bytearray):
        self.model = model
        m = schema_fb.Model.GetRootAs(model, 0)
        sg = m.Subgraphs(0)
        ops = [sg.Operators(i) for i in range(sg.OperatorsLength())]
        kinds = []
        for op in ops:
            code = m.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            kinds.append(_OPS.get(builtin))
        if len(ops) != 1 or kinds[0] is None:
            raise RuntimeError(f"expected one FC/conv/depthwise op, got {kinds}")
        op = ops[0]
        self.kind = kinds[0]
        t_in, t_w, t_b = (op.Inputs(i) for i in range(3))
        t_out = op.Outputs(0)

        def tensor(i):
            return sg.Tensors(i)

        def data(i, dtype):
            t = tensor(i)
            raw = m.Buffers(t.Buffer()).DataAsNumpy()
            shape = tuple(t.ShapeAsNumpy())
            return raw.view(dtype).reshape(shape)

        self.int8 = tensor(t_in).Type() == schema_fb.TensorType.INT8
        self.weights = data(t_w, np.int8 if self.int8 else np.float32)
        self.bias = None if t_b < 0 else data(t_b, np.int32 if self.int8 else np.float32)
        self.input_shape = tuple(int(v) for v in tensor(t_in).ShapeAsNumpy())
        self.output_shape = tuple(int(v) for v in tensor(t_out).ShapeAsNumpy())

        def qparams(i):
            q = tensor(i).Quantization()
            if q is None or q.ScaleLength() == 0:
                return None, None
            return q.ScaleAsNumpy(), q.ZeroPointAsNumpy()

        if self.int8:
            s, z = qparams(t_in)
            self.in_scale, self.in_zp = float(s[0]), int(z[0])
            s, z = qparams(t_out)
            self.out_scale, self.out_zp = float(s[0]), int(z[0])
            self.w_scales, w_zp = qparams(t_w)
            assert np.all(w_zp == 0), "weights must be symmetric"

        opt_table = op.BuiltinOptions()
        if self.kind == "fc":
            o = schema_fb.FullyConnectedOptions()
            o.Init(opt_table.Bytes, opt_table.Pos)
            self.activation = o.FusedActivationFunction()
        else:
            o = schema_fb.Conv2DOptions() if self.kind == "conv" else schema_fb.DepthwiseConv2DOptions()
            o.Init(opt_table.Bytes, opt_table.Pos)
            self.activation = o.FusedActivationFunction()
            self.stride = (o.StrideH(), o.StrideW())
            self.dilation = (o.DilationHFactor(), o.DilationWFactor())
            self.same = o.Padding() == schema_fb.Padding.SAME
            self.depth_multiplier = o.DepthMultiplier() if self.kind == "depthwise_conv" else 0

    # -- geometry -------------------------------------------------------

    def padding(self) -> tuple[int, int]:
        """TFLM ComputePaddingHeightWidth: top/left padding."""
        if self.kind == "fc" or not self.same:
            return 0, 0
        kh, kw = self.kernel_hw()
        pads = []
        for in_size, out_size, k, s, d in zip(
            self.input_shape[1:3], self.output_shape[1:3], (kh, kw), self.stride, self.dilation, strict=True
        ):
            eff = (k - 1) * d + 1
            pads.append(max(((out_size - 1) * s + eff - in_size), 0) // 2)
        return pads[0], pads[1]

    def kernel_hw(self) -> tuple[int, int]:
        return int(self.weights.shape[1]), int(self.weights.shape[2])

    # -- matrix view (docs/format.md column order) -----------------------

    def matrix(self) -> np.ndarray:
        """Weights as W[rows][cols] in the format's order (a copy)."""
        if self.kind in ("fc", "conv"):
            return self.weights.reshape(self.weights.shape[0], -1).copy()
        kh, kw = self.kernel_hw()
        return self.weights.reshape(kh * kw, -1).T.copy()

    def set_matrix(self, W: np.ndarray) -> None:
        if self.kind in ("fc", "conv"):
            self.weights[...] = W.reshape(self.weights.shape)
        else:
            self.weights[...] = W.T.reshape(self.weights.shape)

    # -- activation range ------------------------------------------------

    def act_range_int8(self) -> tuple[int, int]:
        A = schema_fb.ActivationFunctionType
        lo, hi = -128, 127
        if self.activation == A.RELU:
            lo = max(lo, self.out_zp)
        elif self.activation != A.NONE:
            raise NotImplementedError(f"activation {self.activation}")
        return lo, hi

    def act_range_f32(self) -> tuple[float, float]:
        A = schema_fb.ActivationFunctionType
        if self.activation == A.RELU:
            return 0.0, float(np.finfo(np.float32).max)
        if self.activation != A.NONE:
            raise NotImplementedError(f"activation {self.activation}")
        return float(-np.finfo(np.float32).max), float(np.finfo(np.float32).max)

    def effective_scales(self) -> np.ndarray:
        """Per output channel real multiplier exactly as TFLM computes it."""
        rows = self.output_shape[-1]
        ws = np.asarray(self.w_scales, np.float32)
        if ws.size > 1:
            return np.array([float(self.in_scale) * float(s) / float(self.out_scale) for s in ws], np.float64)
        # Per-tensor: TFLM multiplies the two scales in float first.
        prod = float(np.float32(self.in_scale) * np.float32(ws[0]))
        return np.full(rows, prod / float(self.out_scale), np.float64)

    # -- run -----------------------------------------------------------

    def run(self, x: np.ndarray) -> np.ndarray:
        interp = runtime.Interpreter.from_bytes(bytes(self.model), arena_size=1 << 20)
        interp.set_input(x, 0)
        interp.invoke()
        return interp.get_output(0)
