# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Keras sub-network model → one TFLite flatbuffer holding every level.

`convert` runs the steps of docs/architecture.md §5 in order; each job
lives in its own module: `tf_convert` (TensorFlow's conversion of every
level, one graph, united ranges), `operator_plan` (each layer's ``KS_*``
operator: options, encoded levels, tables), `dense_top` (the dense-top
cost model), `formats` (the byte format: encoding, table layout, bytes read)
and `flatbuffer` (editing the file). This module also reads a converted
file's metadata and operators back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence

import keras
import numpy as np

from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert import formats, options

# Re-exported: the byte format's helpers, the dense_top cost model and the error lived here before the split.
from keras_subnets.convert.dense_top import (  # noqa: F401
    DENSE_TOP_MIN_DENSITY,
    DENSE_TOP_MIN_DENSITY_CONV,
    DENSE_TOP_MIN_DENSITY_POINTWISE,
    choose_dense_top,
    dense_requantization_is_exact,
)
from keras_subnets.convert.errors import ConversionError
from keras_subnets.convert.export import fold_plan, plain_model
from keras_subnets.convert.formats import bytes_read, pack_tables  # noqa: F401
from keras_subnets.convert.operator_plan import match_ops, op_kind, plan_op
from keras_subnets.convert.tf_convert import (
    check_same_graph,
    representative_samples,
    tf_convert,
    tf_failure,
    union_ranges,
)
from keras_subnets.evaluation import level_costs
from keras_subnets.layers import SubnetLayerMixin
from keras_subnets.model_layers import model_layers
from keras_subnets.progress import ProgressLine

METADATA_NAME = "keras_subnets.levels"
SUBNET_INPUT = "subnet"


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
    _check_backend()
    layers, L, plan = _check_model(model, quantize, accuracy)
    int8 = quantize == "int8"
    samples = representative_samples(representative_data, tuple(model.inputs[0].shape), num_calibration_samples) \
        if int8 else None
    converted = _convert_levels(model, range(L) if int8 else [L - 1], samples, int8, progress)
    check_same_graph(converted)
    if int8:
        union_ranges(converted)
    tfl = converted[-1]
    reads = _replace_subnet_operators(tfl, model, plan, L, int8, dense_top)
    meta = {"version": options.FORMAT_VERSION, "quantize": quantize, "input": SUBNET_INPUT,
            "mask_kinds": sorted({la.mask_kind for la in layers}),
            "target_sparsity": list(getattr(model, "levels", [])),
            "levels": _level_table(model, reads, accuracy)}
    _write_metadata(tfl, meta)
    fb.compact(tfl)
    return fb.save(tfl)


def _check_backend():
    backend = keras.backend.backend()
    if backend != "tensorflow":
        # TensorFlow's converter traces the model as a TensorFlow function: a
        # JAX or PyTorch model fails deep inside it.
        raise ConversionError(
            f"convert() needs Keras' TensorFlow backend; this process runs '{backend}' (KERAS_BACKEND). "
            "Save the model (model.save('model.keras')) and run 'keras-subnets convert model.keras "
            "-o model.tflite', which always uses TensorFlow"
        )


def _check_model(model: keras.Model, quantize: str, accuracy: list[float] | None) -> tuple[list, int, list]:
    """The model's sub-network layers, its number of levels and its fold plan, or the reason it cannot convert."""
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
    return layers, L, plan


def _convert_levels(model: keras.Model, levels: Sequence[int], samples, int8: bool, progress: bool) -> list:
    """TensorFlow's conversion of each of ``levels`` as a plain model, loaded for editing."""
    converted = []
    line = ProgressLine() if progress else None
    for n, k in enumerate(levels, start=1):
        if line:
            line.update(f"keras-subnets convert: {'calibrating' if int8 else 'building'} level {k} "
                        f"({n}/{len(levels)})")
        try:
            converted.append(fb.load(tf_convert(plain_model(model, k), samples)))
        except ConversionError:
            raise
        except Exception as err:
            raise ConversionError(tf_failure(model, k, err)) from err
    if line:
        line.done()
    return converted


def _replace_subnet_operators(tfl, model: keras.Model, plan: list, L: int, int8: bool,
                              dense_top: bool | None) -> np.ndarray:
    """Adds the ``subnet`` input and turns every sub-network layer's operator into its ``KS_*`` operator.

    Returns:
        The bytes all replaced operators read at each level.
    """
    sg = tfl.subgraphs[0]
    weight_layers = [la for la in model_layers(model) if op_kind(la) is not None]
    mapping = match_ops(tfl, weight_layers)
    folded_by_layer = {id(f.layer): f for f in plan}
    subnet_index = fb.add_activation(sg, SUBNET_INPUT, [1], fb.TensorType.INT32)
    sg.inputs = np.append(np.asarray(sg.inputs, np.int32), subnet_index).astype(np.int32)
    replaced, reads = 0, np.zeros(L, np.int64)
    for op_index, layer in mapping.items():
        if id(layer) not in folded_by_layer:
            continue  # a plain layer the user kept dense: stays a builtin operator
        op_plan = plan_op(tfl, sg.operators[op_index], folded_by_layer[id(layer)], int8, dense_top)
        _write_custom_operator(tfl, sg.operators[op_index], layer.name, op_plan, subnet_index, int8)
        replaced += 1
        reads += [bytes_read(op_plan.nested, k, int8) for k in range(L)]
    if replaced != len(plan):
        raise ConversionError(f"only {replaced} of {len(plan)} sub-network layers became custom operators")
    _short_activation_names(tfl, {int(sg.operators[i].outputs[0]): layer.name for i, layer in mapping.items()})
    return reads


def _write_custom_operator(tfl, op, name: str, op_plan, subnet_index: int, int8: bool):
    """Rewrites ``op`` in place as ``op_plan``'s custom operator, its tensors added as constants."""
    sg = tfl.subgraphs[0]
    nested = op_plan.nested
    # Only the level table (input 4) carries a name, "<layer>/levels": tools find the operator's layer by it.
    # The other constants go unnamed (~20 bytes each; no runtime reads a name).
    inputs = [int(op.inputs[0]), subnet_index,
              -1 if nested.values is None else fb.add_constant(tfl, sg, None, nested.values),
              -1 if nested.indices is None else fb.add_constant(tfl, sg, None, nested.indices),
              fb.add_constant(tfl, sg, f"{name}/levels", nested.level_table)]
    # Format v5: bias, multiplier (scale) and shift in one tensor (input 5; inputs 6 and 7 are -1). A constant
    # tensor costs ~77 bytes of flatbuffer structure (table, buffer, alignment), 0.9 kB of the quickstart CNN.
    inputs += [fb.add_constant(tfl, sg, None, formats.join_tables(op_plan.tables))]
    inputs += [-1] * (2 if int8 else 1)
    if nested.dense is not None:
        # Input 8 (format v3; v4: every int8 sparse operator): the layer's weights in TFLite's layout.
        # No quantization parameters: the multiplier tables are its requantization, and per-channel
        # scales would cost 4 bytes per output channel (1.6 kB of the quickstart CNN's 26 kB plain
        # model) that nothing reads.
        inputs.append(fb.add_constant(tfl, sg, None, nested.dense))
    op.opcodeIndex = fb.opcode_index(tfl, fb.BuiltinOperator.CUSTOM, options.OP_NAMES[op_plan.kind])
    op.inputs = np.asarray(inputs, np.int32)
    op.builtinOptionsType = 0
    op.builtinOptions = None
    op.customOptions = np.frombuffer(options.encode(op_plan.options), np.uint8)
    op.customOptionsFormat = 0


def _level_table(model: keras.Model, reads: np.ndarray, accuracy: list[float] | None) -> list[dict]:
    """One metadata row per level: sparsity, MACs, non-zeros, bytes read, accuracy."""
    table = []
    for k in range(len(reads)):
        costs = level_costs(model, k)
        table.append({"level": k, "sparsity": round(costs["sparsity"], 6), "macs": costs["macs"],
                      "nonzeros": costs["nonzeros"], "bytes_read": int(reads[k]),
                      "accuracy": None if accuracy is None else float(accuracy[k])})
    return table


def _write_metadata(tfl, meta: dict):
    """Stores the level table as JSON, and its costs in binary for firmware that picks its level at run time."""
    fb.set_metadata(tfl, METADATA_NAME, json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    # ks_governor.h reads the binary copy.
    from keras_subnets.firmware.modelfile import LEVEL_COSTS_NAME, level_costs_blob

    fb.set_metadata(tfl, LEVEL_COSTS_NAME, level_costs_blob(meta))


def _short_activation_names(model, by_output: dict[int, str]) -> None:
    """Renames the graph's inner activation tensors (not its inputs and outputs), drops their shape signatures.

    TensorFlow names a fused operator's output by every op it fused
    (``model_subnets_level3_1/stem_relu_1/Relu;model_subnets_level3_1/stem_bn_1/...``,
    200-320 bytes each, 1.4 kB of the quickstart CNN's file); no runtime reads
    them. An operator's output gets its Keras layer's name, any other inner
    tensor the first name TensorFlow gave it.
    """
    sg = model.subgraphs[0]
    boundary = {int(i) for i in sg.inputs} | {int(i) for i in sg.outputs}
    for index, tensor in enumerate(sg.tensors):
        if index in boundary or fb.tensor_data(model, tensor) is not None:
            continue
        name = by_output.get(index) or fb._text(tensor.name).split(";", 1)[0].split("/", 1)[-1]
        tensor.name = name.encode()
        # The batch dimension as -1 matters only where a runtime resizes the graph's inputs; TFLM never
        # reads a signature (12-20 bytes per tensor).
        tensor.shapeSignature = None


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
