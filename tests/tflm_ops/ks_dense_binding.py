"""ctypes binding of the dense int8 kernels (tflm_ops/include/ks_dense.h) in
libks_ops.so, and the numpy oracle they are tested against.

The oracle transcribes TFLM's reference_integer_ops (FullyConnectedPerChannel,
ConvPerChannel, DepthwiseConvPerChannel) with int32 sums that wrap, and
MultiplyByQuantizedMultiplier (double rounding, or single rounding as
TFLITE_SINGLE_ROUNDING); a negative multiplier negates the accumulator
(docs/format.md §5.2).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np
from ks_ops_binding import ConvGeometry, KsConvParams, KsDims, _dims, _ptr

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


@dataclass
class DenseQuant:
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: np.ndarray
    shift: np.ndarray
    bias: np.ndarray | None = None

    def __post_init__(self):
        self.multiplier = np.ascontiguousarray(self.multiplier, np.int32)
        self.shift = np.ascontiguousarray(self.shift, np.int32)
        if self.bias is not None:
            self.bias = np.ascontiguousarray(self.bias, np.int32)

    def struct(self) -> KsDenseQuant:
        s = KsDenseQuant()
        s.input_offset, s.output_offset = self.input_offset, self.output_offset
        s.act_min, s.act_max = self.act_min, self.act_max
        s.bias, s.multiplier, s.shift = _ptr(self.bias), _ptr(self.multiplier), _ptr(self.shift)
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
        _ptr(W), rows, cols, ctypes.byref(q.struct()), batches, _ptr(x), _ptr(out), _ptr(scratch) if size else None
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
        ctypes.byref(q.struct()),
        ctypes.byref(din),
        _ptr(x),
        ctypes.byref(dout),
        _ptr(out),
        _ptr(scratch) if size else None,
    )
    _check_guard(out, n_out, f"{op} output")
    _check_guard(scratch, size, f"{op} scratch")
    return status, out[:n_out].view(np.int8).reshape(out_shape), size


# ---------------------------------------------------------------------------
# numpy oracle
# ---------------------------------------------------------------------------


def _wrap32(v: np.ndarray) -> np.ndarray:
    return ((np.asarray(v, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def requantize(acc: np.ndarray, q: DenseQuant, single_rounding: bool = False) -> np.ndarray:
    """acc [..., rows] (int32 values in int64) -> int8 outputs, per channel."""
    acc = _wrap32(acc)
    if q.bias is not None:
        acc = _wrap32(acc + q.bias.astype(np.int64))
    m = q.multiplier.astype(np.int64)
    s = q.shift.astype(np.int64)
    x = np.where(m < 0, _wrap32(-acc), acc)
    m = np.abs(m)
    if single_rounding:
        total = 31 - s
        y = (x * m + (np.int64(1) << (total - 1))) >> total
    else:
        left = np.maximum(s, 0)
        right = np.maximum(-s, 0)
        a = _wrap32(x << left)
        hi = (a * m + (1 << 30)) >> 31  # floor division: gemmlowp's SRDHM for m != INT32_MIN
        mask = (np.int64(1) << right) - 1
        rem = hi & mask
        threshold = (mask >> 1) + (hi < 0)
        y = (hi >> right) + (rem > threshold)
    y = _wrap32(y + q.output_offset)
    return np.clip(y, q.act_min, q.act_max).astype(np.int8)


def ref_fully_connected(W: np.ndarray, q: DenseQuant, x: np.ndarray, single_rounding: bool = False) -> np.ndarray:
    acc = (x.astype(np.int64) + q.input_offset) @ W.astype(np.int64).T
    return requantize(acc, q, single_rounding)


def _windows(geom: ConvGeometry, x: np.ndarray, out_shape, pad_value: int) -> np.ndarray:
    """[n, oh, ow, kh, kw, c] input windows; positions outside the image hold pad_value."""
    n, H, Wd, C = x.shape
    _, oh, ow, _ = out_shape
    iy = (np.arange(oh) * geom.stride_h - geom.pad_h)[:, None] + np.arange(geom.kernel_h)[None, :] * geom.dilation_h
    ix = (np.arange(ow) * geom.stride_w - geom.pad_w)[:, None] + np.arange(geom.kernel_w)[None, :] * geom.dilation_w
    vy = (iy >= 0) & (iy < H)
    vx = (ix >= 0) & (ix < Wd)
    win = x[:, np.clip(iy, 0, max(H - 1, 0))[:, None, :, None], np.clip(ix, 0, max(Wd - 1, 0))[None, :, None, :], :]
    valid = vy[:, None, :, None] & vx[None, :, None, :]
    return np.where(valid[None, ..., None], win.astype(np.int64), pad_value)


def ref_conv(
    geom: ConvGeometry, W: np.ndarray, q: DenseQuant, x: np.ndarray, out_shape, single_rounding: bool = False
) -> np.ndarray:
    """W OHWI.  Padding contributes 0: the padded input equals -input_offset."""
    win = _windows(geom, x, out_shape, -q.input_offset) + q.input_offset
    acc = np.einsum("nyxhwc,ohwc->nyxo", win, W.astype(np.int64))
    return requantize(acc, q, single_rounding)


def ref_depthwise_conv(
    geom: ConvGeometry, W: np.ndarray, q: DenseQuant, x: np.ndarray, out_shape, single_rounding: bool = False
) -> np.ndarray:
    """W [kh][kw][C*mult]; output channel c*mult + m reads input channel c."""
    win = _windows(geom, x, out_shape, -q.input_offset) + q.input_offset
    win = np.repeat(win, geom.depth_multiplier, axis=-1)
    acc = np.einsum("nyxhwc,hwc->nyxc", win, W.astype(np.int64))
    return requantize(acc, q, single_rounding)
