# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""ctypes binding of the dense int8 kernels (tflm_ops/include/ks_dense.h) in
libks_ops.so.  The numpy oracle (a transcription of TFLM's
reference_integer_ops) lives with the Cortex-M images that also use it,
keras_subnets/firmware/dense_image.py.
"""

from __future__ import annotations

import ctypes

import numpy as np

from keras_subnets.firmware.core_binding import ConvGeometry, KsConvParams, KsDims, _dims, _ptr
from keras_subnets.firmware.dense_image import (  # noqa: F401
    DenseQuant,
    ref_conv,
    ref_depthwise_conv,
    ref_fully_connected,
    requantize,
)

CANARY = 0xA5
GUARD = 64


class KsDenseQuant(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("act_min", ctypes.c_int32),
        ("act_max", ctypes.c_int32),
        ("bias", ctypes.c_void_p),
        ("multiplier", ctypes.c_void_p),
        ("shift", ctypes.c_void_p),
    ]


def quant_struct(q: DenseQuant) -> KsDenseQuant:
    s = KsDenseQuant()
    s.input_offset, s.output_offset = q.input_offset, q.output_offset
    s.act_min, s.act_max = q.act_min, q.act_max
    s.bias, s.multiplier, s.shift = _ptr(q.bias), _ptr(q.multiplier), _ptr(q.shift)
    return s


def setup(lib: ctypes.CDLL) -> ctypes.CDLL:
    i32, vp, P = ctypes.c_int32, ctypes.c_void_p, ctypes.POINTER
    lib.ks_dense_validate_quant.argtypes = [P(KsDenseQuant), i32]
    lib.ks_dense_validate_quant.restype = i32
    lib.ks_dense_fully_connected_s8_get_buffer_size.argtypes = [i32, i32]
    lib.ks_dense_fully_connected_s8_get_buffer_size.restype = i32
    lib.ks_dense_fully_connected_s8.argtypes = [vp, i32, i32, P(KsDenseQuant), i32, vp, vp, vp]
    lib.ks_dense_fully_connected_s8.restype = i32
    for op in ("conv", "depthwise_conv"):
        size_fn = getattr(lib, f"ks_dense_{op}_s8_get_buffer_size")
        size_fn.argtypes = [P(KsConvParams), P(KsDims), P(KsDims)]
        size_fn.restype = i32
        fn = getattr(lib, f"ks_dense_{op}_s8")
        fn.argtypes = [P(KsConvParams), vp, P(KsDenseQuant), P(KsDims), vp, P(KsDims), vp, vp]
        fn.restype = i32
    return lib


def _guarded(n: int, dtype=np.uint8) -> np.ndarray:
    return np.full(n * np.dtype(dtype).itemsize + GUARD, CANARY, np.uint8)


def _check_guard(buf: np.ndarray, n: int, what: str) -> None:
    if not np.all(buf[n:] == CANARY):
        raise AssertionError(f"{what} written past its {n} bytes")


def fully_connected(lib, W: np.ndarray, q: DenseQuant, x: np.ndarray) -> tuple[int, np.ndarray]:
    """W [rows][cols] int8, x [batches][cols] int8 -> (status, y [batches][rows])."""
    W = np.ascontiguousarray(W, np.int8)
    x = np.ascontiguousarray(x, np.int8)
    rows, cols = W.shape
    batches = x.shape[0]
    out = _guarded(batches * rows)
    size = lib.ks_dense_fully_connected_s8_get_buffer_size(rows, cols)
    scratch = _guarded(size)
    status = lib.ks_dense_fully_connected_s8(
        _ptr(W), rows, cols, ctypes.byref(quant_struct(q)), batches, _ptr(x), _ptr(out), _ptr(scratch) if size else None
    )
    _check_guard(out, batches * rows, "fully connected output")
    _check_guard(scratch, size, "fully connected scratch")
    return status, out[: batches * rows].view(np.int8).reshape(batches, rows)


def conv(lib, op: str, geom: ConvGeometry, weights: np.ndarray, q: DenseQuant, x: np.ndarray, out_shape):
    """op 'conv' (weights OHWI) or 'depthwise_conv' (weights [kh][kw][out.c]).
    Returns (status, y, scratch bytes)."""
    weights = np.ascontiguousarray(weights, np.int8)
    x = np.ascontiguousarray(x, np.int8)
    cp = geom.struct()
    din, dout = _dims(x.shape), _dims(out_shape)
    n_out = int(np.prod(out_shape))
    out = _guarded(n_out)
    size = getattr(lib, f"ks_dense_{op}_s8_get_buffer_size")(ctypes.byref(cp), ctypes.byref(din), ctypes.byref(dout))
    scratch = _guarded(size)
    status = getattr(lib, f"ks_dense_{op}_s8")(
        ctypes.byref(cp),
        _ptr(weights),
        ctypes.byref(quant_struct(q)),
        ctypes.byref(din),
        _ptr(x),
        ctypes.byref(dout),
        _ptr(out),
        _ptr(scratch) if size else None,
    )
    _check_guard(out, n_out, f"{op} output")
    _check_guard(scratch, size, f"{op} scratch")
    return status, out[:n_out].view(np.int8).reshape(out_shape), size
