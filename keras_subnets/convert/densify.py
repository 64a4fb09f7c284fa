# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Materialise one level of a converted file as standard builtin operators.

The result runs in any TFLite / TFLite Micro interpreter without our
kernels. It is the reference the custom kernels are tested against: its int8
weights, biases and per-channel requantization are exactly what the
``KS_*`` operator computes at that level.
"""

from __future__ import annotations

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert import formats, options, quantization
from keras_subnets.convert.converter import SUBNET_INPUT

_BUILTINS = {"KS_CONV_2D": "CONV_2D", "KS_DEPTHWISE_CONV_2D": "DEPTHWISE_CONV_2D",
             "KS_FULLY_CONNECTED": "FULLY_CONNECTED"}


_KINDS = {v: k for k, v in options.OP_NAMES.items()}  # KS_CONV_2D -> conv_2d


def dense_rows(kind: str, opts: dict, dense) -> np.ndarray:
    """Canonical rows ``[rows, cols]`` of a format v3 operator's dense tensor (input 8, TFLite layout)."""
    rows, cols = int(opts["rows"]), int(opts["cols"])
    d = np.asarray(dense)
    if d.size != rows * cols:
        raise ValueError(f"{kind}: the dense tensor has {d.size} elements, rows x cols = {rows * cols}")
    return formats.from_tflite_layout(_KINDS.get(kind, kind), d, rows)


def decode_rows(kind: str, opts: dict, values, indices, table, dense=None) -> tuple[np.ndarray, np.ndarray]:
    """Dense canonical rows and each weight's first level from a packed matrix.

    ``dense`` is input 8 (TFLite's layout) when the operator has one. Format
    v4: an int8 sparse format stores no values (``values`` is None); its
    indices are columns (blocks) of ``dense``'s rows. With option
    ``dense_top`` its arrays hold levels 0..L-2 and the densest level is
    ``dense``; a structured matrix with ``dense_top`` reads every level from
    ``dense``.
    """
    rows, cols, L = int(opts["rows"]), int(opts["cols"]), int(opts["levels"])
    top = None if dense is None else dense_rows(kind, opts, dense)
    fmt = formats.FORMAT_NAMES.get(int(opts["format"]))
    if int(opts.get("dense_top", 0)):
        if top is None:
            raise ValueError(f"{kind}: option dense_top = 1 but the dense tensor (input 8) is missing")
        if fmt == "structured":
            return decode_rows(kind, {**opts, "dense_top": 0}, top.reshape(-1), indices, table)
        if L < 2:
            raise ValueError(f"{kind}: dense_top with a sparse format needs at least 2 levels")
        sparse, first = decode_rows(kind, {**opts, "dense_top": 0, "levels": L - 1}, values, indices, table, dense)
        in_sparse = first < L - 1
        merged = np.where(in_sparse, sparse, top)
        first = np.where(in_sparse, first, np.where(top != 0, L - 1, L)).astype(np.int32)
        return merged, first
    if values is None:
        if top is None or fmt == "structured":
            raise ValueError(f"{kind}: the operator has neither values (input 2) nor dense weights (input 8)")
        # Format v4: the level structure from the indices, every value from D.
        _, level = decode_rows(kind, opts, np.ones(_num_entries(fmt, indices), np.int8), indices, table)
        return np.where(level < L, top, 0).astype(np.int8), level
    dense = np.zeros((rows, cols), values.dtype)
    level = np.full((rows, cols), L, np.int32)
    fmt = formats.FORMAT_NAMES.get(int(opts["format"]))
    if fmt in ("nested_csr", "nested_block"):
        ptr = np.asarray(table, np.int64)
        for r in range(rows):
            for k in range(L):
                lo, hi = ptr[r * L + k], ptr[r * L + k + 1]
                idx = np.asarray(indices[lo:hi], np.int64)
                if fmt == "nested_csr":
                    dense[r, idx] = values[lo:hi]
                    level[r, idx] = k
                else:
                    pairs = np.asarray(values[2 * lo:2 * hi]).reshape(-1, 2)
                    for j, b in enumerate(idx):
                        for half in (0, 1):
                            c = 2 * b + half
                            if c < cols:
                                dense[r, c] = pairs[j, half]
                                level[r, c] = k
    elif fmt == "row":
        counts = np.asarray(table, np.int64)
        per_row = int(counts[-1])
        vals = np.asarray(values).reshape(rows, per_row)
        idx = np.asarray(indices, np.int64).reshape(rows, per_row)
        for k in range(L):
            lo = 0 if k == 0 else counts[k - 1]
            for r in range(rows):
                dense[r, idx[r, lo:counts[k]]] = vals[r, lo:counts[k]]
                level[r, idx[r, lo:counts[k]]] = k
    elif fmt == "structured":
        dense = np.asarray(values).reshape(rows, cols).copy()
        out_w, in_w = np.asarray(table[:L]), np.asarray(table[L:])
        cin = int(opts["in_channels"])
        for k in reversed(range(L)):
            if int(opts["depth_multiplier"]):
                active = np.zeros((rows, cols), bool)
                active[: out_w[k]] = True
            else:
                columns = np.zeros(cols, bool)
                columns[(np.arange(cols) % cin) < in_w[k]] = True
                active = np.zeros((rows, cols), bool)
                active[: out_w[k]] = columns
            level[active] = k
    else:
        raise ValueError(f"unknown weight format id {opts['format']}")
    return dense, level


def _num_entries(fmt: str, indices) -> int:
    """Values a sparse matrix with these indices would store (two per block)."""
    return (2 if fmt == "nested_block" else 1) * int(np.asarray(indices).size)


def level_row(table: np.ndarray, opts: dict, level_table: np.ndarray, level: int) -> np.ndarray:
    """Level ``level``'s ``[rows]`` view of a per-channel table in the layout of option ``tables`` (format v2).

    Shared tables serve every level; a prefix table (structured) stores
    level ``k``'s ``out_width[k]`` active rows after those of the levels
    below; its inactive rows come back as 0 (their outputs are the zero
    point / 0.0 whatever the table says).
    """
    layout = int(opts["tables"])
    if layout == options.TABLES_SHARED:
        return table
    if layout == options.TABLES_PER_LEVEL:
        return table.reshape(int(opts["levels"]), int(opts["rows"]))[level]
    if layout == options.TABLES_PREFIX:
        widths = [int(w) for w in level_table[: int(opts["levels"])]]
        start = sum(widths[:level])
        row = np.zeros(int(opts["rows"]), table.dtype)
        row[: widths[level]] = table[start:start + widths[level]]
        return row
    raise ValueError(f"unknown table layout {layout}")


def _filter_scale(multiplier: int, shift: int, input_scale: float, output_scale: float) -> np.float32:
    """A float32 filter scale for which TFLM derives exactly (|multiplier|, shift).

    The converter computed the multiplier from such a float32 scale, so a
    search of the few float32 neighbours of the exact quotient finds it.
    """
    if multiplier == 0:
        return np.float32(0.0)
    target = (abs(int(multiplier)), int(shift))
    guess = np.float32(abs(int(multiplier)) * 2.0 ** (int(shift) - 31) * float(output_scale) / float(input_scale))
    up = down = guess
    for _ in range(64):
        for candidate in (up, down):
            if quantization.quantize_multiplier(
                    quantization.effective_multiplier(input_scale, candidate, output_scale)) == target:
                return candidate
        up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(0))
    raise ValueError(f"no float32 filter scale reproduces multiplier {multiplier} shift {shift}")


def _rows_to_tflite(kind: str, opts: dict, dense: np.ndarray) -> np.ndarray:
    if kind == "KS_FULLY_CONNECTED":
        return dense
    if kind == "KS_CONV_2D":
        kh, kw = int(opts["kernel_h"]), int(opts["kernel_w"])
        return dense.reshape(dense.shape[0], kh, kw, -1)
    kh, kw = int(opts["kernel_h"]), int(opts["kernel_w"])
    return dense.T.reshape(1, kh, kw, dense.shape[0])


def _builtin_options(kind: str, opts: dict, activation: int):
    if kind == "KS_FULLY_CONNECTED":
        o = schema.FullyConnectedOptionsT()
        o.fusedActivationFunction = activation
        return schema.BuiltinOptions.FullyConnectedOptions, o
    o = schema.Conv2DOptionsT() if kind == "KS_CONV_2D" else schema.DepthwiseConv2DOptionsT()
    o.padding = int(opts["padding"])
    o.strideW, o.strideH = int(opts["stride_w"]), int(opts["stride_h"])
    o.dilationWFactor, o.dilationHFactor = int(opts["dilation_w"]), int(opts["dilation_h"])
    o.fusedActivationFunction = activation
    if kind == "KS_CONV_2D":
        return schema.BuiltinOptions.Conv2DOptions, o
    o.depthMultiplier = int(opts["depth_multiplier"])
    return schema.BuiltinOptions.DepthwiseConv2DOptions, o


def _activation_code(opts: dict, int8: bool, out_scale=None, out_zp=None) -> int:
    codes = schema.ActivationFunctionType
    if int8:
        for name in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            if quantization.activation_bounds(name, out_scale, out_zp) == (opts["act_min"], opts["act_max"]):
                return getattr(codes, name)
    else:
        for name in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            lo, hi = quantization.float_activation_bounds(name)
            if (max(lo, -3.0e38), min(hi, 3.0e38)) == (opts["act_min_f"], opts["act_max_f"]) or (
                np.float32(max(lo, -3.0e38)), np.float32(min(hi, 3.0e38))) == (
                    np.float32(opts["act_min_f"]), np.float32(opts["act_max_f"])):
                return getattr(codes, name)
    raise ValueError("the operator's activation bounds match no builtin fused activation")


def densify(tflite: bytes, level: int) -> bytes:
    """Returns a builtin-op flatbuffer computing ``level`` of a converted file.

    The ``subnet`` input is removed; the level's weights are materialised
    densely (zeros where the level has none) with its per-level bias and
    requantization folded into standard per-channel parameters.

    Raises:
        ValueError: for an out-of-range level or a file not written by
            `keras_subnets.convert`.
    """
    model = fb.load(tflite)
    sg = model.subgraphs[0]
    names = [fb._text(sg.tensors[i].name) for i in sg.inputs]
    if SUBNET_INPUT not in names:
        raise ValueError("the file has no 'subnet' input: not written by keras_subnets.convert")
    subnet_tensor = int(sg.inputs[names.index(SUBNET_INPUT)])
    for op in sg.operators:
        kind = fb.op_name(model, op)
        if kind not in _BUILTINS:
            continue
        opts = options.decode(op.customOptions, where=f"operator {kind}")
        L = int(opts["levels"])
        if not 0 <= level < L:
            raise ValueError(f"level {level} is out of range; the file has levels 0..{L - 1}")
        int8 = bool(opts["int8"])
        tensor = [None if i < 0 else sg.tensors[i] for i in op.inputs]
        values, indices, table = (None if t is None else fb.tensor_data(model, t) for t in tensor[2:5])
        top = None
        if len(tensor) > options.DENSE_INPUT and tensor[options.DENSE_INPUT] is not None:
            top = fb.tensor_data(model, tensor[options.DENSE_INPUT])
        elif int(opts["dense_top"]):
            raise ValueError(f"operator {kind}: option dense_top = 1 but input {options.DENSE_INPUT} is missing")
        dense, first = decode_rows(kind, opts, values, indices, table, top)
        active = first <= level
        if (int(opts["dense_top"]) and level == L - 1
                and formats.FORMAT_NAMES[int(opts["format"])] != "structured"):
            # What the kernel runs at the densest level: the dense tensor as stored, every entry.
            dense, active = dense_rows(kind, opts, top), np.ones(first.shape, bool)
        out_t = sg.tensors[op.outputs[0]]
        if int8:
            bias, mult, shift = (level_row(t, opts, table, level)
                                 for t in formats.split_tables(fb.tensor_data(model, tensor[5]), True))
            (s_x,), _ = fb.quant_params(sg.tensors[op.inputs[0]])
            (s_y,), (z_y,) = fb.quant_params(out_t)
            sign = np.where(mult < 0, -1, 1)
            weights = (dense.astype(np.int32) * active * sign[:, None]).astype(np.int8)
            bias = (bias.astype(np.int64) * sign).astype(np.int32)
            scales = np.array([_filter_scale(int(m), int(s), s_x, s_y) for m, s in zip(mult, shift, strict=True)],
                              np.float32)
            scales[scales == 0] = np.float32(1e-30)
            activation = _activation_code(opts, True, float(s_y), int(z_y))
        else:
            bias_t, scale_t = (level_row(t, opts, table, level)
                               for t in formats.split_tables(fb.tensor_data(model, tensor[5]), False))
            weights = (dense * active * scale_t[:, None]).astype(np.float32)
            bias = bias_t.astype(np.float32)
            activation = _activation_code(opts, False)
        filt = _rows_to_tflite(kind, opts, weights)
        if formats.FORMAT_NAMES[int(opts["format"])] == "structured":
            # Outputs past the level's width are the zero point / 0.0, as the kernel writes them.
            out_w = int(table[level])
            if int8:
                bias[out_w:] = 0
            else:
                bias[out_w:] = 0.0
        w_index = fb.add_constant(model, sg, f"level{level}/weights", filt)
        b_index = fb.add_constant(model, sg, f"level{level}/bias", bias)
        if int8:
            axis = 3 if kind == "KS_DEPTHWISE_CONV_2D" else 0
            fb.set_quant_params(sg.tensors[w_index], scales, np.zeros(scales.size, np.int64), axis)
            fb.set_quant_params(sg.tensors[b_index], scales * np.float32(s_x), np.zeros(scales.size, np.int64))
        op.opcodeIndex = fb.opcode_index(model, getattr(fb.BuiltinOperator, _BUILTINS[kind]))
        op.inputs = np.asarray([op.inputs[0], w_index, b_index], np.int32)
        op.builtinOptionsType, op.builtinOptions = _builtin_options(kind, opts, activation)
        op.customOptions = None
    sg.inputs = np.asarray([i for i in sg.inputs if int(i) != subnet_tensor], np.int32)
    fb.compact(model)
    return fb.save(model)
