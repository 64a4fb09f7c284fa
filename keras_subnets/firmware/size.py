# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Flash bytes of a firmware image per component, from the GNU linker map (``firmware.map``).

Every input section the image keeps in flash (code, read-only data, ``.data``'s
initial values, exception index, vectors) is attributed to the object it came
from, and objects to a family: the keras-subnets operators (int8 kernels,
float32 kernels, dense kernels, validation and plans, TFLM glue), TFLM's
interpreter core, each TFLM builtin kernel, CMSIS-NN, the model, and the
C/C++ runtime.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# Output sections stored in flash (.data: its initial values).
_FLASH_OUTPUTS = {".text", ".rodata", ".data", ".init_array", ".fini_array", ".ARM.exidx", ".ARM.extab"}
_ENTRY = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")


def sizes_by_object(map_path: str | Path) -> Counter:
    """Flash bytes per input object (``lib.a(member.o)`` or an object path)."""
    sizes: Counter = Counter()
    lines = Path(map_path).read_text(errors="replace").splitlines()
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        raise ValueError(f"{map_path} is not a GNU ld map file") from None
    section, output = None, None
    for line in lines[start:]:
        if line[:1] not in ("", " ", "\t"):  # an output section (or /DISCARD/) starts
            output = line.split()[0]
            section = None
            continue
        if output not in _FLASH_OUTPUTS:
            continue
        if line.startswith(" .") or line.startswith(" COMMON"):
            parts = line.split()
            section = parts[0]
            if len(parts) >= 4 and parts[1].startswith("0x"):  # name, address, size and object on one line
                _add(sizes, section, int(parts[2], 16), " ".join(parts[3:]))
                section = None
            continue
        m = _ENTRY.match(line)
        if m and section is not None:
            _add(sizes, section, int(m.group(2), 16), m.group(3))
        section = None
    return sizes


def _add(sizes: Counter, section: str, size: int, obj: str) -> None:
    if size and not obj.startswith("load address"):
        sizes[obj.strip()] += size


def _member(obj: str) -> tuple[str, str]:
    m = re.match(r"^(.*?)([^/]+\.a)\((.+)\)$", obj)
    return (m.group(2), m.group(3)) if m else ("", Path(obj).name)


def family(obj: str) -> str:
    """The family an object belongs to (see the module docstring)."""
    archive, member = _member(obj)
    name = member.removesuffix(".o")
    if archive == "libks_tflm.a":
        if name in ("ks_op", "ks_flexbuffer", "conv", "fully_connected", "depthwise_conv"):
            return "keras-subnets: TFLM glue (options, Prepare, Eval)"
        if "f32" in name:
            return "keras-subnets: float32 kernels"
        if name.startswith("ks_dense"):
            return "keras-subnets: dense kernels (densest level)"
        if name.startswith(("ks_validate", "ks_plan", "ks_table_length", "ks_index_is", "ks_ptr_is",
                            "ks_level", "ks_select", "ks_time")):
            return "keras-subnets: validation, plans, governor"
        return "keras-subnets: int8 sparse kernels"
    if archive == "libtensorflow-microlite.a":
        if name.startswith("arm_"):
            return "CMSIS-NN"
        return "TFLM"
    if name == "model_data":
        return "model (.tflite array)"
    if name in ("main", "startup", "semihost", "ks_bench"):
        return "application + start-up"
    return "C/C++ runtime (newlib, libgcc, libstdc++)"


def sizes_by_family(map_path: str | Path, tflm_kernels: set[str] | None = None) -> dict[str, int]:
    """Flash bytes per family; with ``tflm_kernels`` (kernel object names such as ``conv``), TFLM's
    builtin kernels are listed one by one as ``TFLM kernel: conv``."""
    out: Counter = Counter()
    for obj, size in sizes_by_object(map_path).items():
        fam = family(obj)
        if fam == "TFLM" and tflm_kernels:
            name = _member(obj)[1].removesuffix(".o")
            base = name.removesuffix("_common")
            fam = f"TFLM kernel: {base}" if base in tflm_kernels else "TFLM: interpreter core"
        elif fam == "TFLM":
            fam = "TFLM: interpreter core and kernels"
        out[fam] += size
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
