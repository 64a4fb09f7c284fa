# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Reading, editing and writing TFLite flatbuffers with the tflite-micro schema module."""

from __future__ import annotations

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

BuiltinOperator = schema.BuiltinOperator
TensorType = schema.TensorType
_BUILTIN_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
ACTIVATIONS = {v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")}
NUMPY_TYPES = {TensorType.FLOAT32: np.float32, TensorType.INT8: np.int8, TensorType.INT32: np.int32,
               TensorType.UINT8: np.uint8, TensorType.UINT16: np.uint16, TensorType.INT16: np.int16}
TENSOR_TYPES = {np.dtype(v): k for k, v in NUMPY_TYPES.items()}
FILE_IDENTIFIER = b"TFL3"


class FlatbufferError(ValueError):
    """A flatbuffer that is not a TFLite model or not one this library wrote."""


def load(data: bytes) -> schema.ModelT:
    """Parses TFLite flatbuffer bytes into the schema's object API."""
    data = bytes(data)
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise FlatbufferError("not a TFLite flatbuffer (file identifier 'TFL3' missing)")
    try:
        return schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as err:  # the generated reader raises assorted errors on garbage
        raise FlatbufferError(f"cannot parse the TFLite flatbuffer: {err}") from None


class _AlignedBufferT(schema.BufferT):
    """A buffer whose data is 16-byte aligned, as TFLite's converter writes them."""

    def Pack(self, builder):
        data = None
        if self.data is not None and len(self.data):
            raw = np.ascontiguousarray(np.asarray(self.data, dtype=np.uint8))
            builder.StartVector(1, raw.size, 16)
            builder.head = builder.head - raw.size
            builder.Bytes[builder.head:builder.head + raw.size] = raw.tobytes()
            builder.vectorNumElems = raw.size
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        return schema.BufferEnd(builder)


def save(model: schema.ModelT) -> bytes:
    """Serialises a model with 16-byte aligned buffers."""
    for i, buf in enumerate(model.buffers):
        if not isinstance(buf, _AlignedBufferT):
            aligned = _AlignedBufferT()
            aligned.data = buf.data
            model.buffers[i] = aligned
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def op_name(model: schema.ModelT, op) -> str:
    """Builtin operator name (``CONV_2D``) or custom code (``KS_CONV_2D``)."""
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == BuiltinOperator.CUSTOM:
        name = code.customCode
        return name.decode() if isinstance(name, bytes) else str(name)
    return _BUILTIN_NAMES.get(builtin, str(builtin))


def custom_ops(model: schema.ModelT, subgraph: int = 0) -> list[tuple[str, object]]:
    """``(name, operator)`` of every keras-subnets ``KS_*`` operator, in graph order."""
    ops = model.subgraphs[subgraph].operators or []
    return [(name, op) for op in ops if (name := op_name(model, op)).startswith("KS_")]


def opcode_index(model: schema.ModelT, builtin: int, custom: str | None = None) -> int:
    """Index of an operator code, added when missing."""
    for i, code in enumerate(model.operatorCodes):
        name = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin and (custom is None or name == custom):
            return i
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127)
    code.customCode = custom
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def tensor_data(model: schema.ModelT, tensor) -> np.ndarray | None:
    """A constant tensor's contents with its shape, or None for activations."""
    buf = model.buffers[tensor.buffer]
    if buf.data is None or len(buf.data) == 0:
        return None
    raw = np.asarray(buf.data, dtype=np.uint8)
    shape = [] if tensor.shape is None else [int(d) for d in tensor.shape]
    return raw.view(NUMPY_TYPES[tensor.type]).reshape(shape)


def add_constant(model: schema.ModelT, subgraph, name: str | None, array: np.ndarray) -> int:
    """Adds a constant tensor with its own buffer (unnamed for ``name=None``); returns the tensor index."""
    array = np.ascontiguousarray(array)
    buf = _AlignedBufferT()
    buf.data = np.frombuffer(array.tobytes(), dtype=np.uint8)
    model.buffers.append(buf)
    tensor = schema.TensorT()
    tensor.name = name
    tensor.shape = np.asarray(array.shape, np.int32)
    tensor.type = TENSOR_TYPES[array.dtype]
    tensor.buffer = len(model.buffers) - 1
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def add_activation(subgraph, name: str, shape, tensor_type: int) -> int:
    """Adds a non-constant tensor (buffer 0); returns its index."""
    tensor = schema.TensorT()
    tensor.name = name
    tensor.shape = np.asarray(shape, np.int32)
    tensor.type = tensor_type
    tensor.buffer = 0
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def quant_params(tensor) -> tuple[np.ndarray, np.ndarray] | None:
    q = tensor.quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    return np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.int64)


def set_quant_params(tensor, scale, zero_point, axis: int = 0) -> None:
    q = schema.QuantizationParametersT()
    q.scale = np.atleast_1d(np.asarray(scale, np.float32))
    q.zeroPoint = np.atleast_1d(np.asarray(zero_point, np.int64))
    q.quantizedDimension = axis
    tensor.quantization = q


def compact(model: schema.ModelT) -> None:
    """Drops tensors no operator or subgraph boundary uses, and orphaned buffers."""
    for sg in model.subgraphs:
        used = set(int(i) for i in sg.inputs) | set(int(i) for i in sg.outputs)
        for op in sg.operators:
            used |= {int(i) for i in op.inputs if i >= 0} | {int(i) for i in op.outputs}
        keep = sorted(used)
        remap = {old: new for new, old in enumerate(keep)}
        sg.tensors = [sg.tensors[i] for i in keep]
        sg.inputs = np.asarray([remap[int(i)] for i in sg.inputs], np.int32)
        sg.outputs = np.asarray([remap[int(i)] for i in sg.outputs], np.int32)
        for op in sg.operators:
            op.inputs = np.asarray([remap[int(i)] if i >= 0 else -1 for i in op.inputs], np.int32)
            op.outputs = np.asarray([remap[int(i)] for i in op.outputs], np.int32)
    used_buffers = {0} | {t.buffer for sg in model.subgraphs for t in sg.tensors}
    used_buffers |= {m.buffer for m in (model.metadata or [])}
    keep = sorted(used_buffers)
    remap = {old: new for new, old in enumerate(keep)}
    model.buffers = [model.buffers[i] for i in keep]
    for sg in model.subgraphs:
        for t in sg.tensors:
            t.buffer = remap[t.buffer]
    for m in model.metadata or []:
        m.buffer = remap[m.buffer]
    model.signatureDefs = []


def set_metadata(model: schema.ModelT, name: str, payload: bytes) -> None:
    """Adds or replaces a named metadata entry."""
    buf = _AlignedBufferT()
    buf.data = np.frombuffer(payload, dtype=np.uint8)
    model.buffers.append(buf)
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if _text(m.name) != name] + [entry]


def get_metadata(model: schema.ModelT, name: str) -> bytes | None:
    for m in model.metadata or []:
        if _text(m.name) == name:
            data = model.buffers[m.buffer].data
            return b"" if data is None else np.asarray(data, np.uint8).tobytes()
    return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
