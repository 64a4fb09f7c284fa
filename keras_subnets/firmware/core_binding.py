# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""ctypes binding of tflm_ops (libks_ops.so) plus numpy encoders for the four
nested weight formats of docs/format.md (version 1).

Kept next to the tests for now; the library owner may move it into the package.

Vocabulary used throughout:
  W            dense weight matrix [rows][cols] in the format's column order
  first_level  int array like W: the first level whose mask contains the entry,
               or L when no level contains it (levels are nested, so the entry
               is present at every level >= first_level)
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# The index and pointer widths are the file format's: the arrays built here are what the converter writes.
from keras_subnets.convert.formats import index_dtype, pointer_dtype

TFLM_OPS_DIR = Path(__file__).resolve().parents[2] / "tflm_ops"  # a source checkout

KS_OK, KS_ERR_ARG, KS_ERR_FORMAT, KS_ERR_LEVEL, KS_ERR_UNSUPPORTED = 0, 1, 2, 3, 4
FORMATS = {"nested_csr": 1, "nested_block": 2, "row": 3, "structured": 4}
DTYPES = {np.dtype(np.int8): 1, np.dtype(np.float32): 2}
MAX_LEVELS = 16


class KsMatrix(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_int32),
        ("dtype", ctypes.c_int32),
        ("num_levels", ctypes.c_int32),
        ("rows", ctypes.c_int32),
        ("cols", ctypes.c_int32),
        ("values", ctypes.c_void_p),
        ("num_values", ctypes.c_int32),
        ("indices", ctypes.c_void_p),
        ("num_indices", ctypes.c_int32),
        ("ptr", ctypes.c_void_p),
        ("num_ptr", ctypes.c_int32),
        ("counts", ctypes.c_void_p),
        ("out_width", ctypes.c_void_p),
        ("in_width", ctypes.c_void_p),
        ("num_table", ctypes.c_int32),
        ("in_channels", ctypes.c_int32),
        ("depth_multiplier", ctypes.c_int32),
        ("tap_major", ctypes.c_int32),  # format v3: structured depthwise values as [taps][rows]
    ]


class KsQuantParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("act_min", ctypes.c_int32),
        ("act_max", ctypes.c_int32),
        ("per_level", ctypes.c_int32),
        ("bias", ctypes.c_void_p),
        ("multiplier", ctypes.c_void_p),
        ("shift", ctypes.c_void_p),
    ]


class KsFloatParams(ctypes.Structure):
    _fields_ = [
        ("act_min", ctypes.c_float),
        ("act_max", ctypes.c_float),
        ("per_level", ctypes.c_int32),
        ("scale", ctypes.c_void_p),
        ("bias", ctypes.c_void_p),
    ]


class KsConvParams(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_int32)
        for name in (
            "kernel_h",
            "kernel_w",
            "stride_h",
            "stride_w",
            "dilation_h",
            "dilation_w",
            "pad_h",
            "pad_w",
            "depth_multiplier",
        )
    ]


class KsDims(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32)]


def _ptr(a: np.ndarray | None) -> int | None:
    return None if a is None else a.ctypes.data


def build_library(build_dir: str | os.PathLike, extra_make_args: tuple[str, ...] = ()) -> Path:
    """Build libks_ops.so with the system compiler into build_dir."""
    subprocess.run(
        ["make", "-s", "-C", str(TFLM_OPS_DIR), f"BUILD_DIR={build_dir}", *extra_make_args],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(build_dir) / "libks_ops.so"


def load_library(path: str | os.PathLike) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    i32, vp = ctypes.c_int32, ctypes.c_void_p
    P = ctypes.POINTER
    lib.ks_index_is_u8.argtypes = [i32]
    lib.ks_index_is_u8.restype = i32
    lib.ks_ptr_is_u16.argtypes = [i32]
    lib.ks_ptr_is_u16.restype = i32
    lib.ks_quantize_multiplier.argtypes = [ctypes.c_double, P(i32), P(i32)]
    lib.ks_quantize_multiplier.restype = i32
    lib.ks_multiply_by_quantized_multiplier.argtypes = [i32, i32, i32]
    lib.ks_multiply_by_quantized_multiplier.restype = i32
    for name in (
        "ks_validate_nested_csr",
        "ks_validate_nested_block",
        "ks_validate_row",
        "ks_validate_structured",
        "ks_validate_matrix",
    ):
        getattr(lib, name).argtypes = [P(KsMatrix)]
        getattr(lib, name).restype = i32
    lib.ks_validate_quant_params.argtypes = [P(KsQuantParams), i32, i32]
    lib.ks_validate_quant_params.restype = i32
    lib.ks_validate_quant_params_matrix.argtypes = [P(KsQuantParams), P(KsMatrix)]
    lib.ks_validate_quant_params_matrix.restype = i32
    lib.ks_table_length.argtypes = [P(KsMatrix), i32]
    lib.ks_table_length.restype = i32
    lib.ks_fully_connected_s8.argtypes = [P(KsMatrix), i32, P(KsQuantParams), i32, vp, vp]
    lib.ks_fully_connected_f32.argtypes = [P(KsMatrix), i32, P(KsFloatParams), i32, vp, vp]
    for suffix, prm in (("s8", KsQuantParams), ("f32", KsFloatParams)):
        for op in ("conv", "depthwise_conv"):
            size_fn = getattr(lib, f"ks_{op}_{suffix}_get_buffer_size")
            size_fn.argtypes = [P(KsConvParams), P(KsMatrix), P(KsDims)]
            size_fn.restype = i32
            fn = getattr(lib, f"ks_{op}_{suffix}")
            fn.argtypes = [P(KsConvParams), P(KsMatrix), i32, P(prm), P(KsDims), vp, P(KsDims), vp, vp]
            fn.restype = i32
    lib.ks_fully_connected_s8.restype = i32
    lib.ks_fully_connected_f32.restype = i32
    return lib


def quantize_multiplier(lib: ctypes.CDLL, real: float) -> tuple[int, int]:
    m, s = ctypes.c_int32(), ctypes.c_int32()
    status = lib.ks_quantize_multiplier(float(real), ctypes.byref(m), ctypes.byref(s))
    if status != KS_OK:
        raise ValueError(f"ks_quantize_multiplier({real}) -> status {status}")
    return m.value, s.value


# ---------------------------------------------------------------------------
# Encoders: dense W + nested masks -> format arrays
# ---------------------------------------------------------------------------


KS_TABLES_SHARED, KS_TABLES_PER_LEVEL, KS_TABLES_PREFIX = 0, 1, 2


def prefix_tables(table: np.ndarray, out_width) -> np.ndarray:
    """[L][rows] -> the prefix layout: level k's first out_width[k] rows, level after level (format v2)."""
    return np.ascontiguousarray(np.concatenate([table[k, : int(w)] for k, w in enumerate(out_width)]))


@dataclass
class Nested:
    """Arrays of one encoded matrix; `struct()` gives the C view (keeps refs)."""

    fmt: str
    num_levels: int
    rows: int
    cols: int
    values: np.ndarray
    indices: np.ndarray | None = None
    ptr: np.ndarray | None = None
    counts: np.ndarray | None = None
    out_width: np.ndarray | None = None
    in_width: np.ndarray | None = None
    in_channels: int = 0
    depth_multiplier: int = 0
    tap_major: int = 0
    _keep: list = field(default_factory=list, repr=False)

    def struct(self) -> KsMatrix:
        m = KsMatrix()
        m.format = FORMATS[self.fmt]
        m.dtype = DTYPES[self.values.dtype]
        m.num_levels = self.num_levels
        m.rows = self.rows
        m.cols = self.cols
        m.values = _ptr(self.values)
        m.num_values = self.values.size
        m.indices = _ptr(self.indices)
        m.num_indices = 0 if self.indices is None else self.indices.size
        m.ptr = _ptr(self.ptr)
        m.num_ptr = 0 if self.ptr is None else self.ptr.size
        m.counts = _ptr(self.counts)
        m.out_width = _ptr(self.out_width)
        m.in_width = _ptr(self.in_width)
        table = self.counts if self.counts is not None else self.out_width
        m.num_table = 0 if table is None else table.size
        m.in_channels = self.in_channels
        m.depth_multiplier = self.depth_multiplier
        m.tap_major = self.tap_major
        return m

    def nbytes(self) -> int:
        return sum(
            a.nbytes
            for a in (self.values, self.indices, self.ptr, self.counts, self.out_width, self.in_width)
            if a is not None
        )


def dense_values(W: np.ndarray, per_entry: np.ndarray) -> np.ndarray:
    """A sparse matrix's values: int8 (format v4) the dense weights W row-major (entries are columns of its
    rows; the kernels never read a column no level holds), float32 one value per stored entry."""
    if W.dtype == np.int8:
        return np.ascontiguousarray(W.reshape(-1))
    return per_entry


def _row_order(first_level_row: np.ndarray, num_levels: int) -> np.ndarray:
    """Columns present at the densest level, ordered by (first level, column)."""
    cols = np.nonzero(first_level_row < num_levels)[0]
    return cols[np.lexsort((cols, first_level_row[cols]))]


def encode_nested_csr(W: np.ndarray, first_level: np.ndarray, num_levels: int) -> Nested:
    rows, cols = W.shape
    L = num_levels
    vals, idx = [], []
    ptr = np.zeros(rows * L + 1, np.int64)
    pos = 0
    for r in range(rows):
        order = _row_order(first_level[r], L)
        vals.append(W[r, order])
        idx.append(order)
        lv = first_level[r, order]
        for k in range(L):
            ptr[r * L + k + 1] = pos + int(np.count_nonzero(lv <= k))
        pos += order.size
    values = np.ascontiguousarray(np.concatenate(vals) if vals else np.zeros(0), dtype=W.dtype)
    values = dense_values(W, values)
    indices = np.ascontiguousarray(np.concatenate(idx) if idx else np.zeros(0), dtype=index_dtype(cols))
    return Nested("nested_csr", L, rows, cols, values, indices=indices, ptr=ptr.astype(pointer_dtype(pos)))


def encode_nested_block(W: np.ndarray, block_first_level: np.ndarray, num_levels: int) -> Nested:
    """block_first_level: [rows][ceil(cols/2)], first level of each 1x2 block."""
    rows, cols = W.shape
    L = num_levels
    nblocks = (cols + 1) // 2
    Wp = np.zeros((rows, 2 * nblocks), W.dtype)
    Wp[:, :cols] = W  # the half-empty last block of an odd row carries a 0
    vals, idx = [], []
    ptr = np.zeros(rows * L + 1, np.int64)
    pos = 0
    for r in range(rows):
        order = _row_order(block_first_level[r], L)
        vals.append(np.stack([Wp[r, 2 * order], Wp[r, 2 * order + 1]], axis=1).reshape(-1))
        idx.append(order)
        lv = block_first_level[r, order]
        for k in range(L):
            ptr[r * L + k + 1] = pos + int(np.count_nonzero(lv <= k))
        pos += order.size
    values = dense_values(W, np.ascontiguousarray(np.concatenate(vals), dtype=W.dtype))
    indices = np.ascontiguousarray(np.concatenate(idx), dtype=index_dtype(nblocks))
    return Nested("nested_block", L, rows, cols, values, indices=indices, ptr=ptr.astype(pointer_dtype(pos)))


def encode_row(W: np.ndarray, first_level: np.ndarray, num_levels: int) -> Nested:
    rows, cols = W.shape
    L = num_levels
    counts = np.array([np.count_nonzero(first_level[0] <= k) for k in range(L)], np.int32)
    for r in range(rows):
        c = [np.count_nonzero(first_level[r] <= k) for k in range(L)]
        if list(c) != counts.tolist():
            raise ValueError("row format needs the same count per row at every level")
    n_max = int(counts[-1]) if L else 0
    values = np.zeros((rows, n_max), W.dtype)
    indices = np.zeros((rows, n_max), index_dtype(cols))
    for r in range(rows):
        order = _row_order(first_level[r], L)
        values[r] = W[r, order]
        indices[r] = order
    return Nested("row", L, rows, cols, dense_values(W, values.reshape(-1)), indices=indices.reshape(-1),
                  counts=counts)


def encode_structured(W: np.ndarray, out_width, in_width, in_channels: int, depth_multiplier: int = 0) -> Nested:
    rows, cols = W.shape
    return Nested(
        "structured",
        len(out_width),
        rows,
        cols,
        np.ascontiguousarray(W.reshape(-1)),
        out_width=np.asarray(out_width, np.int32),
        in_width=np.asarray(in_width, np.int32),
        in_channels=in_channels,
        depth_multiplier=depth_multiplier,
    )


def structured_first_level(
    rows: int, cols: int, out_width, in_width, in_channels: int, depth_multiplier: int = 0
) -> np.ndarray:
    """first_level of every entry of a structured matrix (for the masked oracle)."""
    L = len(out_width)
    o = np.arange(rows)[:, None]
    if depth_multiplier:
        ci = np.broadcast_to(o // depth_multiplier, (rows, cols))
    else:
        ci = np.broadcast_to(np.arange(cols)[None, :] % in_channels, (rows, cols))
    fl = np.full((rows, cols), L, np.int32)
    for k in reversed(range(L)):
        inside = (o < out_width[k]) & (ci < in_width[k])
        fl[inside] = k
    return fl


# ---------------------------------------------------------------------------
# Kernel calls
# ---------------------------------------------------------------------------


@dataclass
class QuantParams:
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: np.ndarray  # [L][rows] or [rows] int32
    shift: np.ndarray  # same layout; stored as int8 (format v2)
    bias: np.ndarray | None = None
    layout: int | None = None  # ks_table_layout; None: 1 for [L][rows] tables, else 0

    def struct(self) -> KsQuantParams:
        mult = np.ascontiguousarray(self.multiplier, np.int32)
        shift = np.asarray(self.shift)
        if shift.size and (shift.min() < -128 or shift.max() > 127):
            raise ValueError("format v2 stores shifts as int8")
        shift = np.ascontiguousarray(shift, np.int8)
        bias = None if self.bias is None else np.ascontiguousarray(self.bias, np.int32)
        self._keep = (mult, shift, bias)
        q = KsQuantParams()
        q.input_offset, q.output_offset = self.input_offset, self.output_offset
        q.act_min, q.act_max = self.act_min, self.act_max
        q.per_level = int(mult.ndim == 2) if self.layout is None else self.layout
        q.multiplier, q.shift, q.bias = _ptr(mult), _ptr(shift), _ptr(bias)
        return q


@dataclass
class FloatParams:
    act_min: float
    act_max: float
    scale: np.ndarray | None = None  # [L][rows] or [rows]
    bias: np.ndarray | None = None
    layout: int | None = None  # ks_table_layout; None: 1 for [L][rows] tables, else 0

    def struct(self) -> KsFloatParams:
        scale = None if self.scale is None else np.ascontiguousarray(self.scale, np.float32)
        bias = None if self.bias is None else np.ascontiguousarray(self.bias, np.float32)
        self._keep = (scale, bias)
        p = KsFloatParams()
        p.act_min, p.act_max = self.act_min, self.act_max
        ref = scale if scale is not None else bias
        p.per_level = int(ref is not None and ref.ndim == 2) if self.layout is None else self.layout
        p.scale, p.bias = _ptr(scale), _ptr(bias)
        return p


def validate(lib: ctypes.CDLL, nested: Nested, fn: str = "ks_validate_matrix") -> int:
    m = nested.struct()
    return getattr(lib, fn)(ctypes.byref(m))


def fully_connected(lib, nested: Nested, level: int, params, x: np.ndarray) -> tuple[int, np.ndarray]:
    """x: [batches][cols] int8 or float32 -> (status, y[batches][rows])."""
    x = np.ascontiguousarray(x)
    y = np.zeros((x.shape[0], nested.rows), x.dtype)
    m, p = nested.struct(), params.struct()
    fn = lib.ks_fully_connected_s8 if x.dtype == np.int8 else lib.ks_fully_connected_f32
    status = fn(ctypes.byref(m), level, ctypes.byref(p), x.shape[0], _ptr(x), _ptr(y))
    return status, y


@dataclass
class ConvGeometry:
    kernel_h: int
    kernel_w: int
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    pad_h: int = 0
    pad_w: int = 0
    depth_multiplier: int = 0

    def struct(self) -> KsConvParams:
        c = KsConvParams()
        for name, _ in KsConvParams._fields_:
            setattr(c, name, getattr(self, name))
        return c


def _dims(shape) -> KsDims:
    d = KsDims()
    d.n, d.h, d.w, d.c = (int(v) for v in shape)
    return d


SCRATCH_CANARY = 0xA5


def conv(lib, op: str, geom: ConvGeometry, nested: Nested, level: int, params, x: np.ndarray, out_shape):
    """op: 'conv' or 'depthwise_conv'. Returns (status, y, scratch_bytes).

    The scratch buffer gets 64 canary bytes past the size the library asked
    for; a kernel that writes beyond its own size fails the canary check."""
    x = np.ascontiguousarray(x)
    suffix = "s8" if x.dtype == np.int8 else "f32"
    y = np.zeros(out_shape, x.dtype)
    cp, m, p = geom.struct(), nested.struct(), params.struct()
    din, dout = _dims(x.shape), _dims(out_shape)
    size = getattr(lib, f"ks_{op}_{suffix}_get_buffer_size")(ctypes.byref(cp), ctypes.byref(m), ctypes.byref(din))
    scratch = np.full(size + 64, SCRATCH_CANARY, np.uint8)
    status = getattr(lib, f"ks_{op}_{suffix}")(
        ctypes.byref(cp),
        ctypes.byref(m),
        level,
        ctypes.byref(p),
        ctypes.byref(din),
        _ptr(x),
        ctypes.byref(dout),
        _ptr(y),
        _ptr(scratch) if size > 0 else None,
    )
    if size > 0 and not np.all(scratch[size:] == SCRATCH_CANARY):
        raise AssertionError(f"ks_{op}_{suffix} wrote past its {size}-byte scratch")
    return status, y, size
