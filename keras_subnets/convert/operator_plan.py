# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Each sub-network layer's TFLite operator → the options, weight arrays and tables of its ``KS_*`` operator.

One job of `keras_subnets.convert.convert`: find the operator TensorFlow
built for each weight layer, quantize its rows once, encode every level in
the layer's weight format and build the per-level requantization tables
(docs/architecture.md §5, step 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from keras_subnets import registry
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert import formats, options, quantization
from keras_subnets.convert.dense_top import choose_dense_top, dense_requantization_is_exact
from keras_subnets.convert.errors import ConversionError
from keras_subnets.convert.export import FoldedLayer

_WEIGHT_OPS = {"CONV_2D": "conv_2d", "DEPTHWISE_CONV_2D": "depthwise_conv_2d", "FULLY_CONNECTED": "fully_connected"}


def op_kind(layer) -> str | None:
    return registry.operator(layer)


def _tflite_weight_shape(layer) -> tuple[int, ...]:
    return registry.lookup(layer, exact=False).tflite_weight_shape(layer.kernel.shape)


def match_ops(tfl, layers: list) -> dict[int, object]:
    """Maps each Keras weight layer to its TFLite operator index (order, then shape)."""
    sg = tfl.subgraphs[0]
    candidates = [(i, _WEIGHT_OPS[fb.op_name(tfl, op)]) for i, op in enumerate(sg.operators)
                  if fb.op_name(tfl, op) in _WEIGHT_OPS]
    taken, mapping = set(), {}
    for layer in layers:
        kind, shape = op_kind(layer), _tflite_weight_shape(layer)
        for i, candidate in candidates:
            if i in taken or candidate != kind:
                continue
            weights = sg.tensors[sg.operators[i].inputs[1]]
            if tuple(int(d) for d in weights.shape) == shape:
                taken.add(i)
                mapping[i] = layer
                break
        else:
            raise ConversionError(f"layer '{layer.name}': no {kind} operator with weights {shape} in the "
                                  "converted graph")
    return mapping


@dataclass
class OpPlan:
    folded: FoldedLayer
    kind: str
    nested: formats.Nested
    tables: list[np.ndarray]
    options: dict


def _input_levels(layer, level_rows: np.ndarray) -> np.ndarray:
    if registry.is_depthwise(layer):
        return keras.ops.convert_to_numpy(layer.unit_level)[:: layer.depth_multiplier]
    cin = int(layer.kernel.shape[-2])
    return level_rows[0, :cin]


def _geometry(tfl, op, kind: str, layer) -> dict:
    opts = op.builtinOptions
    geo = {"kernel_h": 1, "kernel_w": 1, "stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1,
           "padding": 1, "depth_multiplier": 0}
    if kind != "fully_connected":
        kh, kw = registry.lookup(layer, exact=False).window(layer.kernel.shape)
        geo.update(kernel_h=kh, kernel_w=kw, stride_h=int(opts.strideH), stride_w=int(opts.strideW),
                   dilation_h=int(opts.dilationHFactor), dilation_w=int(opts.dilationWFactor),
                   padding=int(opts.padding))
    if kind == "depthwise_conv_2d":
        geo["depth_multiplier"] = int(layer.depth_multiplier)
    return geo


def _check_nothing_else_folded(tfl, op, folded: FoldedLayer, level: int) -> None:
    """Refuses an operator whose bias TensorFlow changed beyond the layer's and its BatchNorm's.

    TensorFlow's converter also folds a constant added after the layer into
    its bias (``hard_sigmoid(x) = relu6(x + 3) / 6`` as a layer's activation,
    or right after a layer feeding nothing else); the KS operator computes its
    levels from the Keras layer, so the constant would be lost.
    """
    sg = tfl.subgraphs[0]
    if len(op.inputs) < 3 or int(op.inputs[2]) < 0:
        return
    tensor = sg.tensors[int(op.inputs[2])]
    data = fb.tensor_data(tfl, tensor)
    if data is None:
        return
    got = data.astype(np.float64).reshape(-1)
    step = 0.0
    params = fb.quant_params(tensor)
    if params is not None and tensor.type != fb.TensorType.FLOAT32:
        scales = np.broadcast_to(params[0].astype(np.float64), got.shape)
        got = got * scales
        step = scales
    _, expected = folded.level_affine(level)
    if got.shape != expected.shape:
        return
    worst = np.abs(got - expected) - (2 * step + 1e-3 * (1 + np.abs(expected)))
    if np.any(worst > 0):
        unit = int(np.argmax(worst))
        raise ConversionError(
            f"layer '{folded.layer.name}': TensorFlow's converter folded an operation after the layer into its "
            f"bias (unit {unit}: {got[unit]:.4g} instead of {expected[unit]:.4g}), e.g. the '+ 3' of a "
            "hard_sigmoid / hard_swish activation; the level-switching operator cannot carry it. Apply that "
            "activation to a tensor that other layers also read, or use 'sigmoid'")


def plan_op(tfl, op, folded: FoldedLayer, int8: bool, dense_top: bool | None = None) -> OpPlan:
    layer, sg = folded.layer, tfl.subgraphs[0]
    kind = op_kind(layer)
    L = layer.num_levels
    _check_nothing_else_folded(tfl, op, folded, L - 1)
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel), np.float64)
    rows = layer._kernel_to_rows(kernel)
    level_rows = layer._kernel_to_rows(np.asarray(keras.ops.convert_to_numpy(layer.kernel_level)))
    kept = level_rows < L
    activation = fb.ACTIVATIONS[int(op.builtinOptions.fusedActivationFunction)]
    opts = {"version": options.FORMAT_VERSION, "levels": L, "rows": rows.shape[0], "cols": rows.shape[1],
            "int8": int(int8), **_geometry(tfl, op, kind, layer)}
    affine = [folded.level_affine(k) for k in range(L)]
    if int8:
        values, weight_scale = quantization.quantize_rows(rows * kept)
        (s_x,), (z_x,) = fb.quant_params(sg.tensors[op.inputs[0]])
        (s_y,), (z_y,) = fb.quant_params(sg.tensors[op.outputs[0]])
        per_level = [quantization.level_int8_tables(a, c, weight_scale, s_x, s_y) for a, c in affine]
        shift = np.stack([t[2] for t in per_level])
        if shift.size and (shift.min() < -31 or shift.max() > 30):
            raise ConversionError(f"layer '{layer.name}': a requantization shift is outside [-31, 30] "
                                  "(an extreme weight, activation or BatchNorm scale)")
        tables = [np.stack([t[i] for t in per_level]).astype(np.int32) for i in range(2)] + [shift.astype(np.int8)]
        act_min, act_max = quantization.activation_bounds(activation, float(s_y), int(z_y))
        opts.update(input_offset=-int(z_x), output_offset=int(z_y), act_min=act_min, act_max=act_max)
    else:
        values = (rows * kept).astype(np.float32)
        tables = [np.stack([c for _, c in affine]).astype(np.float32),
                  np.stack([a for a, _ in affine]).astype(np.float32)]
        lo, hi = quantization.float_activation_bounds(activation)
        opts.update(act_min_f=float(np.float32(max(lo, -3.0e38))), act_max_f=float(np.float32(min(hi, 3.0e38))))
    fmt = formats.KIND_TO_FORMAT[layer.mask_kind]
    cin = int(layer.kernel.shape[-2])
    if fmt == "structured":
        unit_levels = np.asarray(keras.ops.convert_to_numpy(layer.unit_level))
        try:
            out_w, in_w = formats.structured_widths(unit_levels, _input_levels(layer, level_rows), L)
        except ValueError:
            # After a Concatenate a level's active channels are each member's prefix at its offset,
            # not one prefix: the nested sparse format holds any nested mask.
            fmt = "nested_csr"
    if fmt == "structured":
        full_width = out_w[-1] == rows.shape[0] and in_w[-1] == cin
        allowed = int8 and full_width
        chosen = choose_dense_top(fmt, kind, opts, int8, L, full_width=full_width)
    else:
        allowed = int8 and L >= 2
        chosen = choose_dense_top(fmt, kind, opts, int8, L, density=float(kept.mean()))
    if allowed:
        bias, multiplier, shift, _ = per_level[-1]
        allowed = dense_requantization_is_exact(values, bias, multiplier, shift)
    dense_top = allowed and (chosen if dense_top is None else dense_top)
    # With dense_top the sparse arrays hold levels 0..L-2 only; the densest level runs from D.
    sparse_levels = L - 1 if dense_top else L
    if fmt == "nested_block" and int8 and rows.shape[1] % 2:
        # Format v4 reads a block's two values from D's row as one pair; an odd row has no second
        # column for its last block, so the layer is written as nested_csr (the same non-zeros).
        fmt = "nested_csr"
    if fmt == "nested_csr":
        nested = formats.encode_nested_csr(values, level_rows, sparse_levels)
    elif fmt == "nested_block":
        nested = formats.encode_nested_block(values, level_rows, sparse_levels)
    elif fmt == "row":
        nested = formats.encode_row(values, level_rows, sparse_levels)
    else:
        depthwise = registry.is_depthwise(layer)
        nested = formats.encode_structured(values, out_w, in_w, cin, layer.depth_multiplier if depthwise else 0)
    nested.num_levels = L
    nested.dense_top = dense_top
    if dense_top or (int8 and fmt != "structured"):
        # Format v4: an int8 sparse format reads every value from D (its arrays keep the indices only);
        # structured with dense_top reads every level's prefixes of D.
        nested.dense = formats.to_tflite_layout(kind, values, opts["kernel_h"], opts["kernel_w"])
        nested.values = None
    layout, tables = formats.pack_tables(tables, nested)
    opts.update(format=formats.FORMAT_IDS[fmt], in_channels=cin, tables=layout, dense_top=int(dense_top))
    return OpPlan(folded, kind, nested, tables, opts)
