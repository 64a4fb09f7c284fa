# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Keras sub-network model → one TFLite flatbuffer holding every level."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import keras
import numpy as np

from keras_subnets import registry
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert import formats, options, quantization
from keras_subnets.convert.export import FoldedLayer, fold_plan, plain_model
from keras_subnets.evaluation import level_costs
from keras_subnets.layers import SubnetLayerMixin
from keras_subnets.model_layers import model_layers
from keras_subnets.progress import ProgressLine

METADATA_NAME = "keras_subnets.levels"
SUBNET_INPUT = "subnet"
_WEIGHT_OPS = {"CONV_2D": "conv_2d", "DEPTHWISE_CONV_2D": "depthwise_conv_2d", "FULLY_CONNECTED": "fully_connected"}


class ConversionError(ValueError):
    """The model cannot be expressed in the nested flatbuffer format."""


def _op_kind(layer) -> str | None:
    return registry.operator(layer)


def _tflite_weight_shape(layer) -> tuple[int, ...]:
    return registry.lookup(layer, exact=False).tflite_weight_shape(layer.kernel.shape)


def _tf_failure(model: keras.Model, level: int, err: Exception) -> str:
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


def _representative(data, input_shape, count: int) -> list[np.ndarray]:
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


def _tf_convert(model: keras.Model, samples: list[np.ndarray] | None) -> bytes:
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


def _union_ranges(models: list, subgraph_index: int = 0) -> None:
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


def _check_same_graph(models: list) -> None:
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


def _match_ops(tfl, layers: list) -> dict[int, object]:
    """Maps each Keras weight layer to its TFLite operator index (order, then shape)."""
    sg = tfl.subgraphs[0]
    candidates = [(i, _WEIGHT_OPS[fb.op_name(tfl, op)]) for i, op in enumerate(sg.operators)
                  if fb.op_name(tfl, op) in _WEIGHT_OPS]
    taken, mapping = set(), {}
    for layer in layers:
        kind, shape = _op_kind(layer), _tflite_weight_shape(layer)
        for i, op_kind in candidates:
            if i in taken or op_kind != kind:
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
class _OpPlan:
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


def _plan_op(tfl, op, folded: FoldedLayer, int8: bool, dense_top: bool | None = None) -> _OpPlan:
    layer, sg = folded.layer, tfl.subgraphs[0]
    kind = _op_kind(layer)
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
    layout, tables = pack_tables(tables, nested)
    opts.update(format=formats.FORMAT_IDS[fmt], in_channels=cin, tables=layout, dense_top=int(dense_top))
    return _OpPlan(folded, kind, nested, tables, opts)


# Cost model of option dense_top (docs/format.md §14): the densest level runs the dense kernels
# (CMSIS-NN on Cortex-M) when it keeps at least this fraction of the layer's weights.  Fully
# connected layers (one input vector: no reuse of a loaded weight across pixels):
DENSE_TOP_MIN_DENSITY = 0.30
# Stride-1 1x1 convolutions: the sparse pointwise loop shares each loaded weight across four pixels,
# so it stays ahead of the dense kernel up to a higher density.
DENSE_TOP_MIN_DENSITY_POINTWISE = 0.55
# Other convolutions and depthwise: the sparse conv runs four output pixels per loaded entry over a
# q15 im2col, sparse depthwise channel by channel; both break even with CMSIS-NN dense near 60 %
# density (M4: 3x3 conv nested_csr 0.83x at 50 %, nested_block 0.71x; depthwise 0.88x).
DENSE_TOP_MIN_DENSITY_CONV = 0.60


def dense_requantization_is_exact(weights: np.ndarray, bias: np.ndarray, multiplier: np.ndarray,
                                  shift: np.ndarray) -> bool:
    """Whether CMSIS-NN's dense kernels requantize a level exactly as TFLite does.

    CMSIS-NN multiplies by a negative multiplier directly where TFLite (and
    format §5.2) negates the accumulator; they agree for every input when
    ``|bias| + 255 * sum|w| < 2^(31 - max(shift, 0))`` (``tflm_ops/include/ks_dense.h``).
    Prepare refuses a dense level that breaks it, so such a level stays sparse.
    """
    negative = np.asarray(multiplier) < 0
    if not negative.any():
        return True
    bound = np.abs(np.asarray(bias, np.int64)) + 255 * np.abs(np.asarray(weights, np.int64)).sum(axis=1)
    limit = np.left_shift(np.int64(1), 31 - np.maximum(np.asarray(shift, np.int64), 0))
    return bool(np.all(bound[negative] < limit[negative]))


def choose_dense_top(fmt: str, kind: str, geometry: dict, int8: bool, num_levels: int, *,
                     density: float = 1.0, full_width: bool = True) -> bool:
    """Whether an operator stores its densest level as dense weights run by the dense kernels.

    Args:
        fmt: the weight format (``nested_csr``, ``nested_block``, ``row``,
            ``structured``).
        kind: ``fully_connected``, ``conv_2d`` or ``depthwise_conv_2d``.
        geometry: the operator options (kernel size and strides).
        int8: the dense kernels are int8 only, so float32 files never use it.
        num_levels: ``L``; a sparse format needs ``L >= 2`` (levels
            0..L-2 stay sparse).
        density: the densest level's fraction of the layer's weights.
        full_width: structured only: the densest level uses every output
            and input channel.
    """
    if not int8:
        return False
    if fmt == "structured":
        return full_width
    if num_levels < 2:
        return False
    if kind == "fully_connected":
        return density >= DENSE_TOP_MIN_DENSITY
    pointwise = (kind == "conv_2d" and geometry["kernel_h"] == geometry["kernel_w"] == 1
                 and geometry["stride_h"] == geometry["stride_w"] == 1)
    return density >= (DENSE_TOP_MIN_DENSITY_POINTWISE if pointwise else DENSE_TOP_MIN_DENSITY_CONV)


def pack_tables(tables: list[np.ndarray], nested: formats.Nested) -> tuple[int, list[np.ndarray]]:
    """The layout (option ``tables``) and stored form of an operator's ``[L, rows]`` tables.

    Format version 2 (docs/format.md §5): a layer's tables are stored once
    (``[rows]``, shared) when no level changes them (no per-level BatchNorm
    after it); a structured layer stores only each level's active rows,
    level after level (prefix layout: level ``k``'s ``out_width[k]`` rows);
    otherwise ``[L, rows]``. All tables of one operator share the layout.
    """
    if all(bool((t == t[:1]).all()) for t in tables):
        return options.TABLES_SHARED, [np.ascontiguousarray(t[0]) for t in tables]
    if nested.format == "structured":
        widths = nested.level_table[: nested.num_levels]
        return options.TABLES_PREFIX, [
            np.ascontiguousarray(np.concatenate([t[k, : int(w)] for k, w in enumerate(widths)])) for t in tables]
    return options.TABLES_PER_LEVEL, tables


# Bytes per output row of the per-channel tables: bias + multiplier (int32) + shift (int8), or float bias + scale.
_TABLE_ROW_BYTES = {True: 9, False: 8}


def bytes_read(nested: formats.Nested, level: int, int8: bool) -> int:
    """Weight-side bytes one inference reads at ``level`` (values, indices, pointers, tables)."""
    vsize = 1 if int8 else 4
    isize = 0 if nested.indices is None else nested.indices.itemsize
    row_bytes = _TABLE_ROW_BYTES[int8]
    tables = nested.rows * row_bytes
    if nested.dense_top and nested.format != "structured" and level == nested.num_levels - 1:
        return nested.rows * nested.cols * vsize + tables  # the dense kernel reads all of D
    # Below: a sparse level reads one value per entry (from D in format v4, int8).
    L = nested.sparse_levels
    if nested.format in ("nested_csr", "nested_block"):
        ptr = nested.level_table
        entries = int(sum(int(ptr[r * L + level + 1]) - int(ptr[r * L]) for r in range(nested.rows)))
        per_entry = (2 * vsize if nested.format == "nested_block" else vsize) + isize
        return entries * per_entry + nested.rows * 2 * ptr.itemsize + tables
    if nested.format == "row":
        return nested.rows * int(nested.level_table[level]) * (vsize + isize) + tables
    out_w, in_w = int(nested.level_table[level]), int(nested.level_table[L + level])
    if nested.depth_multiplier:
        return out_w * nested.cols * vsize + out_w * row_bytes
    taps = nested.cols // max(nested.in_channels, 1)
    return out_w * in_w * taps * vsize + out_w * row_bytes


def convert(
    model: keras.Model,
    representative_data: np.ndarray | Iterable | Callable | None = None,
    quantize: str = "int8",
    *,
    accuracy: list[float] | None = None,
    num_calibration_samples: int = 200,
    progress: bool = True,
    dense_top: bool | None = None,
) -> bytes:
    """Converts a sub-network model into one TFLite flatbuffer holding every level.

    TensorFlow's converter builds the graph of every level (BatchNorm folded,
    activations fused, int8 calibrated per level); the activation ranges of
    all levels are merged, and every sub-network layer becomes a ``KS_*``
    custom operator whose weights are stored once in the nested format of its
    mask kind (``docs/format.md``). The model gets a second input ``subnet``
    (int32, shape [1]): the level to run.

    Args:
        model: a `SubnetModel` (or functional model of sub-network layers).
        representative_data: input samples for int8 calibration (an array of
            samples, an iterable of batches, or a callable returning one).
        quantize: ``"int8"`` (full-integer, int8 input and output) or
            ``"float32"``.
        accuracy: measured accuracy per level, stored in the level table.
        num_calibration_samples: samples used for calibration.
        progress: report each level built on stderr (updated in place on a
            terminal, one line per level otherwise).
        dense_top: whether each operator's densest level runs the dense
            kernels from its own weight tensor (format v3, int8 only):
            ``None`` lets the cost model choose per operator
            (`choose_dense_top`), ``True`` uses them wherever the file can
            (int8; a sparse format with at least 2 levels; structured at full
            width), ``False`` never.

    Returns:
        The ``.tflite`` file's bytes.

    Raises:
        ConversionError: naming the layer, level or argument at fault.
    """
    backend = keras.backend.backend()
    if backend != "tensorflow":
        # TensorFlow's converter traces the model as a TensorFlow function: a
        # JAX or PyTorch model fails deep inside it.
        raise ConversionError(
            f"convert() needs Keras' TensorFlow backend; this process runs '{backend}' (KERAS_BACKEND). "
            "Save the model (model.save('model.keras')) and run 'keras-subnets convert model.keras "
            "-o model.tflite', which always uses TensorFlow"
        )
    if quantize not in ("int8", "float32"):
        raise ConversionError(f"quantize must be 'int8' or 'float32', got {quantize!r}")
    layers = model_layers(model, SubnetLayerMixin)
    if not layers:
        raise ConversionError(f"model '{model.name}' has no sub-network layer (no levels to convert)")
    counts = {la.num_levels for la in layers}
    if len(counts) != 1:
        raise ConversionError(f"model '{model.name}' mixes layers with {sorted(counts)} levels")
    L = counts.pop()
    if len(model.inputs) != 1:
        raise ConversionError(f"model '{model.name}' has {len(model.inputs)} inputs; one is supported")
    if accuracy is not None and len(accuracy) != L:
        raise ConversionError(f"accuracy has {len(accuracy)} values for {L} levels")
    try:
        plan = fold_plan(model)
    except ValueError as err:
        raise ConversionError(str(err)) from None
    for la in layers:
        if any(int(d) != 1 for d in getattr(la, "dilation_rate", (1, 1))):
            # TensorFlow's converter rewrites dilated convolutions into
            # SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND around an undilated op; the
            # level-switching operator is not verified for that rewrite yet.
            raise ConversionError(f"layer '{la.name}': dilation_rate {la.dilation_rate} is not supported by "
                                  "the converter yet; use dilation 1")
    int8 = quantize == "int8"
    samples = _representative(representative_data, tuple(model.inputs[0].shape), num_calibration_samples) \
        if int8 else None
    levels_to_build = range(L) if int8 else [L - 1]
    converted = []
    line = ProgressLine() if progress else None
    for n, k in enumerate(levels_to_build, start=1):
        if line:
            line.update(f"keras-subnets convert: {'calibrating' if int8 else 'building'} level {k} "
                        f"({n}/{len(levels_to_build)})")
        try:
            converted.append(fb.load(_tf_convert(plain_model(model, k), samples)))
        except ConversionError:
            raise
        except Exception as err:
            raise ConversionError(_tf_failure(model, k, err)) from err
    if line:
        line.done()
    _check_same_graph(converted)
    if int8:
        _union_ranges(converted)
    tfl = converted[-1]
    sg = tfl.subgraphs[0]
    weight_layers = [la for la in model_layers(model) if _op_kind(la) is not None]
    mapping = _match_ops(tfl, weight_layers)
    folded_by_layer = {id(f.layer): f for f in plan}
    subnet_index = fb.add_activation(sg, SUBNET_INPUT, [1], fb.TensorType.INT32)
    sg.inputs = np.append(np.asarray(sg.inputs, np.int32), subnet_index).astype(np.int32)
    replaced, reads = 0, np.zeros(L, np.int64)
    for op_index, layer in mapping.items():
        if id(layer) not in folded_by_layer:
            continue  # a plain layer the user kept dense: stays a builtin operator
        op = sg.operators[op_index]
        op_plan = _plan_op(tfl, op, folded_by_layer[id(layer)], int8, dense_top)
        nested, name = op_plan.nested, layer.name
        inputs = [int(op.inputs[0]), subnet_index,
                  -1 if nested.values is None else fb.add_constant(tfl, sg, f"{name}/values", nested.values),
                  -1 if nested.indices is None else fb.add_constant(tfl, sg, f"{name}/indices", nested.indices),
                  fb.add_constant(tfl, sg, f"{name}/levels", nested.level_table)]
        table_names = ("bias", "multiplier", "shift") if int8 else ("bias", "scale")
        inputs += [fb.add_constant(tfl, sg, f"{name}/{t}", table)
                   for t, table in zip(table_names, op_plan.tables, strict=True)]
        if nested.dense is not None:
            # Input 8 (format v3; v4: every int8 sparse operator): the layer's weights in TFLite's layout.
            # No quantization parameters: the multiplier tables are its requantization, and per-channel
            # scales would cost 4 bytes per output channel (1.6 kB of the quickstart CNN's 26 kB plain
            # model) that nothing reads.
            inputs.append(fb.add_constant(tfl, sg, f"{name}/dense", nested.dense))
        op.opcodeIndex = fb.opcode_index(tfl, fb.BuiltinOperator.CUSTOM, options.OP_NAMES[op_plan.kind])
        op.inputs = np.asarray(inputs, np.int32)
        op.builtinOptionsType = 0
        op.builtinOptions = None
        op.customOptions = np.frombuffer(options.encode(op_plan.options), np.uint8)
        op.customOptionsFormat = 0
        replaced += 1
        reads += [bytes_read(nested, k, int8) for k in range(L)]
    if replaced != len(plan):
        raise ConversionError(f"only {replaced} of {len(plan)} sub-network layers became custom operators")
    table = []
    for k in range(L):
        costs = level_costs(model, k)
        table.append({"level": k, "sparsity": round(costs["sparsity"], 6), "macs": costs["macs"],
                      "nonzeros": costs["nonzeros"], "bytes_read": int(reads[k]),
                      "accuracy": None if accuracy is None else float(accuracy[k])})
    meta = {"version": options.FORMAT_VERSION, "quantize": quantize, "input": SUBNET_INPUT,
            "mask_kinds": sorted({la.mask_kind for la in layers}),
            "target_sparsity": list(getattr(model, "levels", [])), "levels": table}
    fb.set_metadata(tfl, METADATA_NAME, json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    # The same costs in binary for firmware that picks its level at run time (ks_governor.h).
    from keras_subnets.firmware.modelfile import LEVEL_COSTS_NAME, level_costs_blob

    fb.set_metadata(tfl, LEVEL_COSTS_NAME, level_costs_blob(meta))
    fb.compact(tfl)
    return fb.save(tfl)


def read_levels(tflite: bytes) -> dict:
    """The ``keras_subnets.levels`` metadata table of a converted file."""
    payload = fb.get_metadata(fb.load(tflite), METADATA_NAME)
    if payload is None:
        raise fb.FlatbufferError("no keras_subnets.levels metadata: not written by keras_subnets.convert")
    return json.loads(payload.decode())


def describe_operators(tflite: bytes) -> list[dict]:
    """The converter's per-operator choices in a converted file, in graph order.

    Returns:
        One dict per ``KS_*`` operator: ``layer`` (the Keras layer's name),
        ``op`` (custom code), ``format`` (weight format), ``levels``,
        ``rows``, ``cols``, ``tables`` (layout name) and ``dense_top``
        (1: the densest level runs the dense kernels from its own tensor).
    """
    model = fb.load(tflite)
    sg = model.subgraphs[0]
    layouts = {options.TABLES_SHARED: "shared", options.TABLES_PER_LEVEL: "per level",
               options.TABLES_PREFIX: "prefix"}
    described = []
    for name, op in fb.custom_ops(model):
        opts = options.decode(op.customOptions, where=f"operator {name}")
        level_tensor = fb._text(sg.tensors[op.inputs[4]].name)
        described.append({"layer": level_tensor.rsplit("/", 1)[0], "op": name,
                          "format": formats.FORMAT_NAMES.get(int(opts["format"]), str(opts["format"])),
                          "levels": int(opts["levels"]), "rows": int(opts["rows"]), "cols": int(opts["cols"]),
                          "tables": layouts.get(int(opts["tables"]), str(opts["tables"])),
                          "dense_top": int(opts["dense_top"])})
    return described


def convert_file(path: str | os.PathLike, output: str | os.PathLike, **kwargs) -> bytes:
    """Loads a ``.keras`` file, converts it, writes ``output``."""
    from keras_subnets.saving import load_model

    try:
        model = load_model(path)
    except ValueError as err:  # already names the file
        raise ConversionError(str(err)) from None
    except Exception as err:
        raise ConversionError(f"cannot load '{path}' as a Keras model: {err}") from None
    data = convert(model, **kwargs)
    with open(output, "wb") as handle:
        handle.write(data)
    return data
