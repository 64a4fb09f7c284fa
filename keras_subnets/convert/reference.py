# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Running converted files in the tflite-micro wheel's interpreter (the reference runtime)."""

from __future__ import annotations

import numpy as np
from tflite_micro.python.tflite_micro import runtime


def run_interpreter(interpreter, x: np.ndarray, level: int | None = None, dequantize: bool = True) -> np.ndarray:
    """Runs samples one by one; quantizes float inputs of int8 models, dequantizes int8 outputs.

    Args:
        interpreter: a ``tflite_micro.runtime.Interpreter``.
        x: inputs, one sample per row (float, or already int8).
        level: written into input 1 (``subnet``) when given.
        dequantize: return int8 outputs as float32 (else the raw int8).
    """
    in_details = interpreter.get_input_details(0)
    out_details = interpreter.get_output_details(0)
    outputs = []
    x = np.asarray(x)
    for sample in x if x.dtype == np.int8 else x.astype(np.float32):
        sample = sample[None]
        if in_details["dtype"] == np.int8 and sample.dtype != np.int8:
            q = in_details["quantization_parameters"]
            sample = np.clip(np.round(sample / q["scales"][0] + q["zero_points"][0]), -128, 127).astype(np.int8)
        interpreter.set_input(sample, 0)
        if level is not None:
            interpreter.set_input(np.array([level], np.int32), 1)
        interpreter.invoke()
        out = np.array(interpreter.get_output(0)[0])
        if dequantize and out_details["dtype"] == np.int8:
            q = out_details["quantization_parameters"]
            out = (out.astype(np.float32) - q["zero_points"][0]) * q["scales"][0]
        outputs.append(out)
    return np.array(outputs)


def run_tflm(model_bytes: bytes, x: np.ndarray, level: int | None = None,
             custom_op_registerers: list[str] | None = None) -> np.ndarray:
    """Builds an interpreter for ``model_bytes`` and runs ``x`` through it (see `run_interpreter`)."""
    interpreter = runtime.Interpreter.from_bytes(model_bytes, custom_op_registerers=custom_op_registerers or [])
    return run_interpreter(interpreter, x, level)
