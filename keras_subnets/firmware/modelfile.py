# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""What a ``.tflite`` file needs from a firmware: operators, sizes, levels; and its C export.

Pure Python (no TFLM tree needed): used by ``keras-subnets inspect`` and
``keras-subnets export-c``, and by the whole-model harness to register exactly
the operators a file contains.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.formats import FORMAT_IDS
from keras_subnets.firmware.build import BUILTIN_KERNELS

METADATA_NAME = "keras_subnets.levels"
LEVEL_COSTS_NAME = "keras_subnets.level_costs"
# Columns of the binary level table (docs/format.md §12, binary level table, tflm_ops/include/ks_governor.h).
LEVEL_FIELDS = {"accuracy": 0, "macs": 1, "bytes_read": 2, "instructions_m4": 3, "instructions_m7": 4}
LEVEL_UNKNOWN = 0xFFFFFFFF
KS_OPS = {
    "KS_FULLY_CONNECTED": ("keras_subnets::kFullyConnectedName", "keras_subnets::Register_KS_FULLY_CONNECTED()"),
    "KS_CONV_2D": ("keras_subnets::kConv2DName", "keras_subnets::Register_KS_CONV_2D()"),
    "KS_DEPTHWISE_CONV_2D": ("keras_subnets::kDepthwiseConv2DName", "keras_subnets::Register_KS_DEPTHWISE_CONV_2D()"),
}
FORMAT_NAMES = {v: k for k, v in FORMAT_IDS.items()}
# Bit of each operator in the firmware's KS_OPS mask (its OpKind, tflm_ops/tflm/ks_op.h).
OP_BITS = {"KS_FULLY_CONNECTED": 0, "KS_CONV_2D": 1, "KS_DEPTHWISE_CONV_2D": 2}
TABLE_LAYOUTS = {0: "shared", 1: "per-level", 2: "prefix"}
# Builtins whose TFLM resolver method is not Add + CamelCase(NAME).
_RESOLVER_EXCEPTIONS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM", "PADV2": "AddPadV2",
                        "REVERSE_V2": "AddReverseV2", "SELECT_V2": "AddSelectV2", "PCAN": "AddPCAN"}


class ModelFileError(ValueError):
    """A file that is not a TFLite model, or one the harness cannot run."""


def read(source: bytes | str | os.PathLike) -> bytes:
    """The bytes of a ``.tflite`` file (path or bytes), checked to be a TFLite flatbuffer."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, where = bytes(source), "the model"
    else:
        where = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as err:
            raise ModelFileError(f"cannot read '{where}': {err.strerror or err}") from None
    if len(data) < 8 or data[4:8] != fb.FILE_IDENTIFIER:
        raise ModelFileError(f"'{where}' is not a TFLite flatbuffer (file identifier 'TFL3' missing)")
    try:
        fb.load(data)
    except fb.FlatbufferError as err:
        raise ModelFileError(f"'{where}': {err}") from None
    return data


def resolver_method(builtin: str) -> str:
    """TFLM's ``MicroMutableOpResolver`` method registering a builtin (``CONV_2D`` -> ``AddConv2D``)."""
    if builtin in BUILTIN_KERNELS:
        return BUILTIN_KERNELS[builtin][0]
    if builtin in _RESOLVER_EXCEPTIONS:
        return _RESOLVER_EXCEPTIONS[builtin]
    return "Add" + "".join(part[:1] + part[1:].lower() for part in builtin.split("_"))


@dataclasses.dataclass
class OpsNeeded:
    """Operators a file contains: custom (``KS_*``) and builtin, by TFLM name, with their counts."""

    custom: dict[str, int]
    builtin: dict[str, int]

    @property
    def count(self) -> int:
        """Resolver slots needed (``MicroMutableOpResolver<N>``)."""
        return len(self.custom) + len(self.builtin)

    def registration_lines(self, resolver: str = "resolver") -> list[str]:
        """C++ statements registering exactly these operators (each returns a TfLiteStatus)."""
        lines = [f"{resolver}.AddCustom({KS_OPS[name][0]}, {KS_OPS[name][1]})" for name in self.custom]
        lines += [f"{resolver}.{resolver_method(name)}()" for name in self.builtin]
        return lines


def ops_needed(tflite: bytes) -> OpsNeeded:
    """The operators of every subgraph of ``tflite``, sorted by name.

    Raises:
        ModelFileError: for a custom operator that is not a keras-subnets one.
    """
    model = fb.load(tflite)
    counts: Counter[str] = Counter()
    other = set()
    for sg in model.subgraphs:
        for op in sg.operators or []:
            name = fb.op_name(model, op)
            code = model.operatorCodes[op.opcodeIndex]
            if max(code.builtinCode, code.deprecatedBuiltinCode) == fb.BuiltinOperator.CUSTOM and name not in KS_OPS:
                other.add(name)
            counts[name] += 1
    if other:
        raise ModelFileError(f"custom operator(s) {', '.join(sorted(other))} are not keras-subnets operators; "
                             "register them yourself")
    custom = {n: c for n, c in sorted(counts.items()) if n in KS_OPS}
    builtin = {n: c for n, c in sorted(counts.items()) if n not in KS_OPS}
    return OpsNeeded(custom, builtin)


def level_table(tflite: bytes) -> dict | None:
    """The ``keras_subnets.levels`` metadata (JSON), or None for a plain file."""
    payload = fb.get_metadata(fb.load(tflite), METADATA_NAME)
    return None if payload is None else json.loads(payload.decode())


def write_level_table(tflite: bytes, table: dict) -> bytes:
    """``tflite`` with its ``keras_subnets.levels`` metadata replaced by ``table`` (JSON) and the
    binary ``keras_subnets.level_costs`` the firmware's governor reads rewritten from it."""
    model = fb.load(tflite)
    fb.set_metadata(model, METADATA_NAME, json.dumps(table, sort_keys=True, separators=(",", ":")).encode())
    fb.set_metadata(model, LEVEL_COSTS_NAME, level_costs_blob(table))
    fb.compact(model)
    return fb.save(model)


def level_costs_blob(table: dict) -> bytes:
    """The binary level table (docs/format.md §12) of a ``keras_subnets.levels`` JSON table: per level,
    accuracy (parts per million), MACs, bytes read and measured instructions; unknown values are
    0xFFFFFFFF. Little-endian: "KSLT", u16 version 1, u16 levels, u16 fields, u16 0, u32 field ids,
    u32 values[levels][fields]."""
    rows = sorted(table["levels"], key=lambda row: row["level"])
    if [row["level"] for row in rows] != list(range(len(rows))) or not 1 <= len(rows) <= 16:
        raise ValueError("the level table must list levels 0..L-1 (1 <= L <= 16)")

    def value(row, name):
        v = row.get(name)
        if v is None:
            return LEVEL_UNKNOWN
        v = round(float(v) * 1e6) if name == "accuracy" else int(v)
        if not 0 <= v < LEVEL_UNKNOWN:
            raise ValueError(f"level {row['level']}: {name} = {row.get(name)} does not fit the binary table")
        return v

    fields = list(LEVEL_FIELDS)
    header = b"KSLT" + np.array([1, len(rows), len(fields), 0], "<u2").tobytes()
    ids = np.array([LEVEL_FIELDS[f] for f in fields], "<u4").tobytes()
    values = np.array([[value(row, f) for f in fields] for row in rows], "<u4").tobytes()
    return header + ids + values


def read_level_costs(tflite: bytes) -> list[dict] | None:
    """The binary level table as ``[{field: value or None}, ...]`` (accuracy as a fraction), or None."""
    blob = fb.get_metadata(fb.load(tflite), LEVEL_COSTS_NAME)
    if blob is None:
        return None
    levels, nfields = np.frombuffer(blob[6:10], "<u2")
    ids = np.frombuffer(blob[12:12 + 4 * nfields], "<u4")
    values = np.frombuffer(blob[12 + 4 * nfields:], "<u4").reshape(levels, nfields)
    names = {v: k for k, v in LEVEL_FIELDS.items()}
    out = []
    for row in values:
        entry = {}
        for field_id, v in zip(ids, row, strict=True):
            name = names.get(int(field_id), f"field_{int(field_id)}")
            entry[name] = None if v == LEVEL_UNKNOWN else (v / 1e6 if name == "accuracy" else int(v))
        out.append(entry)
    return out


def select_level(levels: list[dict], cost: str, budget: int) -> int:
    """The level ``ks_select_level`` picks (a Python statement of its rule): the most accurate level
    whose ``cost`` is known and within ``budget`` (ties: the cheaper one; without accuracies the densest
    that fits); -1 if none fits."""
    fitting = [k for k, row in enumerate(levels) if row.get(cost) is not None and row[cost] <= budget]
    if not fitting:
        return -1
    if all(levels[k].get("accuracy") is not None for k in fitting):
        best = max(levels[k]["accuracy"] for k in fitting)
        return min(k for k in fitting if levels[k]["accuracy"] == best)
    return max(fitting)


def _options(op) -> dict:
    from keras_subnets.convert import options

    try:
        return options.read(op.customOptions)
    except Exception:  # reported as unreadable, never a crash
        return {}


def firmware_defines(tflite: bytes) -> list[str]:
    """Preprocessor flags for the keras-subnets sources of a firmware that runs only ``tflite``.

    ``-DKS_FORMATS=<mask>`` names the weight formats the file's ``KS_*``
    operators use (bit ``format id - 1``, ``tflm_ops/include/ks_ops.h``) and
    ``-DKS_OPS=<mask>`` the operators (bit 0 ``KS_FULLY_CONNECTED``, 1
    ``KS_CONV_2D``, 2 ``KS_DEPTHWISE_CONV_2D``, ``tflm_ops/tflm/ks_op.h``), so
    the other formats' and operators' kernels stay out of the image;
    ``-DKS_NO_FLOAT32`` when every operator is int8.  A firmware built with them refuses, in Prepare and by
    name, a file that needs a format left out. Empty for a file without
    ``KS_*`` operators.

    Raises:
        ModelFileError: an operator whose options do not name a known format.
    """
    return _firmware_defines(fb.load(tflite))


def _firmware_defines(model) -> list[str]:
    formats, op_mask, all_int8 = set(), 0, True
    for name, op in fb.custom_ops(model):
        if name not in OP_BITS:
            raise ModelFileError(f"custom operator {name} is not a keras-subnets operator")
        op_mask |= 1 << OP_BITS[name]
        opts = _options(op)
        fmt = opts.get("format")
        if fmt not in FORMAT_NAMES:
            raise ModelFileError(f"operator {name}: options name no known weight format ({fmt!r})")
        formats.add(int(fmt))
        all_int8 = all_int8 and bool(opts.get("int8"))
    if not formats:
        return []
    mask = sum(1 << (f - 1) for f in formats)
    return [f"-DKS_FORMATS=0x{mask:x}", f"-DKS_OPS=0x{op_mask:x}", *(["-DKS_NO_FLOAT32"] if all_int8 else [])]


def describe(tflite: bytes) -> dict:
    """Everything ``keras-subnets inspect`` prints, as plain data.

    Keys: ``bytes`` (file size), ``ops`` (`OpsNeeded`), ``levels`` (metadata or
    None), ``inputs`` / ``outputs`` (name, type, shape), ``layers`` (one dict per
    ``KS_*`` operator: name, op, format, options version, levels, rows x cols,
    table layout, ``dense_top`` (format v3: 1 when the densest level runs the
    dense kernels from its own tensor), stored weight bytes), ``weight_bytes``
    (all constant tensors), ``defines`` (`firmware_defines`).
    """
    model = fb.load(tflite)
    sg = model.subgraphs[0]
    types = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}

    def tensor_info(i):
        t = sg.tensors[i]
        return {"name": fb._text(t.name), "type": types.get(t.type, str(t.type)).lower(),
                "shape": [int(d) for d in (t.shape if t.shape is not None else [])]}

    layers = []
    for name, op in fb.custom_ops(model):
        opts = _options(op)
        consts = [fb.tensor_data(model, sg.tensors[i]) for i in op.inputs if i >= 0]
        # The level table (input 4) is always present; the values (input 2) are not in a structured
        # dense_top operator (format v3).
        table_name = fb._text(sg.tensors[op.inputs[4]].name) if len(op.inputs) > 4 and op.inputs[4] >= 0 else ""
        layers.append({
            "layer": table_name.rsplit("/", 1)[0], "op": name, "version": opts.get("version"),
            "format": FORMAT_NAMES.get(opts.get("format"), str(opts.get("format"))),
            "levels": opts.get("levels"), "rows": opts.get("rows"), "cols": opts.get("cols"),
            "tables": TABLE_LAYOUTS.get(opts.get("tables"), str(opts.get("tables"))),
            "int8": bool(opts.get("int8")) if "int8" in opts else None,
            "dense_top": int(opts.get("dense_top", 0)),
            "bytes": int(sum(a.nbytes for a in consts if a is not None)),
        })
    weight_bytes = sum(len(b.data) for b in model.buffers if b.data is not None)
    return {"bytes": len(tflite), "ops": ops_needed(tflite), "levels": level_table(tflite),
            "inputs": [tensor_info(i) for i in sg.inputs], "outputs": [tensor_info(i) for i in sg.outputs],
            "layers": layers, "weight_bytes": int(weight_bytes), "defines": _firmware_defines(model)}


def _c_identifier(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"--name '{name}' is not a C identifier")
    return name


def export_c(tflite: bytes, name: str = "g_model", header_name: str | None = None) -> tuple[str, str]:
    """C++ source and header embedding ``tflite`` for a TFLM firmware.

    The source defines ``alignas(16) const unsigned char <name>[]`` and
    ``const unsigned int <name>_len``; the header declares them and defines
    ``<name>_op_count`` (the ``MicroMutableOpResolver<N>`` size that fits) and
    ``<name>_register_ops(resolver)``, which registers exactly the operators the
    file contains (the ``KS_*`` ones through ``ks_registrations.h``).

    Args:
        tflite: the file's bytes.
        name: C identifier of the array.
        header_name: how the source includes the header (default ``<name>.h``).

    Returns:
        ``(source, header)`` texts.
    """
    name = _c_identifier(name)
    header_name = header_name or f"{name}.h"
    ops = ops_needed(tflite)
    guard = re.sub(r"[^A-Za-z0-9]", "_", header_name).upper() + "_"
    summary = ", ".join([*ops.custom, *ops.builtin])
    defines = firmware_defines(tflite)
    lines = [
        "// Generated by `keras-subnets export-c`: a TFLite model for TFLite Micro.",
        f"// Operators: {summary}.",
        *([f"// Build the keras-subnets sources with {' '.join(defines)}: only the kernels this file needs."]
          if defines else []),
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"',
    ]
    if ops.custom:
        lines.append('#include "ks_registrations.h"  // tflm_ops/tflm: the keras-subnets operators')
    lines += [
        "",
        f"extern const unsigned char {name}[];  // 16-byte aligned",
        f"extern const unsigned int {name}_len;",
        "",
        "// Resolver slots the model needs: tflite::MicroMutableOpResolver<" + f"{name}_op_count> resolver;",
        f"constexpr unsigned int {name}_op_count = {ops.count};",
        "",
        "// Registers exactly the operators the model contains.",
        "template <unsigned int tOpCount>",
        f"TfLiteStatus {name}_register_ops(tflite::MicroMutableOpResolver<tOpCount>& resolver) {{",
        f"  static_assert(tOpCount >= {name}_op_count, \"the resolver has too few slots for this model\");",
    ]
    lines += [f"  if ({stmt} != kTfLiteOk) return kTfLiteError;" for stmt in ops.registration_lines()]
    lines += ["  return kTfLiteOk;", "}", "", f"#endif  // {guard}", ""]
    header = "\n".join(lines)
    data = np.frombuffer(tflite, np.uint8)
    rows = [", ".join(f"0x{b:02x}" for b in data[i:i + 12]) for i in range(0, len(data), 12)]
    source = "\n".join([
        "// Generated by `keras-subnets export-c`; do not edit.",
        f'#include "{header_name}"',
        "",
        f"alignas(16) const unsigned char {name}[] = {{",
        *[f"    {row}," for row in rows],
        "};",
        f"const unsigned int {name}_len = {len(data)};",
        "",
    ])
    return source, header


def format_description(desc: dict, path: str = "") -> str:
    """`describe`'s data as the text ``keras-subnets inspect`` prints."""
    nested = any(t["name"] == "subnet" for t in desc["inputs"])
    table = desc["levels"] if nested else None
    lines = [f"{path or 'model'}: {desc['bytes']:,} bytes ({desc['weight_bytes']:,} in constant buffers)"]
    if table:
        lines[0] += (f", keras-subnets file version {table.get('version')}, {table.get('quantize')}, "
                     f"mask kinds {', '.join(table.get('mask_kinds', []))}")
    else:
        lines[0] += ", a plain TFLite file (no `subnet` input: one level)"

    def tensors(items):
        return "; ".join(f"{t['name']} {t['type']} {t['shape']}" for t in items)

    lines += [f"inputs: {tensors(desc['inputs'])}", f"outputs: {tensors(desc['outputs'])}"]
    if table and table.get("levels"):
        measured = sorted({k for row in table["levels"] for k in row if k.startswith("instructions_")})
        header = ["level", "sparsity", "MACs", "non-zeros", "weight bytes read", "accuracy", *measured]
        rows = [[str(row["level"]), f"{row['sparsity']:.3f}", f"{row['macs']:,}", f"{row['nonzeros']:,}",
                 f"{row['bytes_read']:,}", "-" if row.get("accuracy") is None else f"{row['accuracy']:.4f}",
                 *(f"{row[k]:,}" if k in row else "-" for k in measured)] for row in table["levels"]]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        lines.append("levels (run one by writing its number into the `subnet` input before Invoke):")
        lines.append("  " + "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        sizes = [f"{k} {table[k]:,} bytes" for k in sorted(table) if k.startswith(("arena_", "flash_"))
                 and isinstance(table[k], int)]
        lines.append("measured: " + (", ".join(sizes) if sizes else
                                     "no arena/flash yet (keras-subnets profile FILE --target m4 --write)"))
    ops = desc["ops"]
    if desc.get("defines"):
        lines.append(f"firmware flags (only the kernels this file needs): {' '.join(desc['defines'])}")
    lines.append(f"operators to register: tflite::MicroMutableOpResolver<{ops.count}>")
    for (name, count), stmt in zip([*ops.custom.items(), *ops.builtin.items()], ops.registration_lines(),
                                   strict=True):
        kind = "custom " if name in ops.custom else "builtin"
        lines.append(f"  {kind} {name:<22} x{count:<3} {stmt};")
    if desc["layers"]:
        header = ["layer", "operator", "format", "version", "levels", "rows x cols", "tables", "densest level",
                  "bytes"]
        rows = [[la["layer"], la["op"], la["format"], str(la["version"]), str(la["levels"]),
                 f"{la['rows']} x {la['cols']}", la["tables"], "dense" if la["dense_top"] else "sparse",
                 f"{la['bytes']:,}"] for la in desc["layers"]]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        lines.append("keras-subnets operators (format and options version per layer):")
        lines.append(("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))).rstrip())
        lines += [("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip() for r in rows]
    return "\n".join(lines)
