# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The whole-model harness: one ``.tflite`` in a real TFLM firmware, run natively or under QEMU.

``tflm_ops/firmware/runner/main.cc`` embeds the file, registers exactly its
operators (the ``KS_*`` ones from ``tflm_ops/tflm``), runs every requested level
on every input and prints outputs, arena use and per-operator tags; under QEMU
the ``ks_icount`` plugin counts the exact instructions of each ``Invoke()`` and
of each operator (``tflm_ops/cortex_m``). This module generates the model and
run configuration, builds with ``tflm_ops/firmware/Makefile`` against a TFLM
library from `keras_subnets.firmware.build`, runs, and parses.

Example:
    >>> from keras_subnets.firmware import runner
    >>> res = runner.run(tflite_bytes, "m4", x, profile=True)
    >>> res.outputs[0]               # level 0, every sample (raw int8)
    >>> res.invoke_instructions[0]   # exact instructions of each Invoke() at level 0
    >>> res.profile[0]               # [(operator, instructions), ...]
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from keras_subnets.convert import flatbuffer as fb
from keras_subnets.firmware import build, modelfile

FIRMWARE_DIR = build.FIRMWARE_DIR
CORTEX_M_DIR = build.REPO_ROOT / "tflm_ops" / "cortex_m"
DEFAULT_ARENA_BYTES = 512 * 1024
_EXIT_MEANINGS = {2: "AllocateTensors failed", 3: "registering the operators failed",
                  4: "wrong schema version", 5: "the inputs do not match the model", 6: "a profiled Invoke failed"}


def _run_qemu_module():
    from keras_subnets.firmware import qemu  # noqa: PLC0415  (runs only when a firmware is run)

    return qemu


class FirmwareError(RuntimeError):
    """The firmware failed to build, or did not run to its end; carries its output."""

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


@dataclasses.dataclass
class TensorSpec:
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float | None
    zero_point: int | None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize


@dataclasses.dataclass
class ModelSpec:
    """Inputs, outputs and levels of a file, as the harness drives them."""

    input: TensorSpec
    outputs: list[TensorSpec]
    subnet_input: int  # index of the int32 `subnet` input, -1 for a plain file
    num_levels: int  # 0 for a plain file


def model_spec(tflite: bytes) -> ModelSpec:
    """Reads the data input, outputs and level count (raises `ModelFileError` for an unsupported layout)."""
    model = fb.load(tflite)
    sg = model.subgraphs[0]

    def spec(i):
        t = sg.tensors[i]
        if t.type not in fb.NUMPY_TYPES:
            raise modelfile.ModelFileError(f"tensor '{fb._text(t.name)}' has an unsupported type {t.type}")
        q = fb.quant_params(t)
        return TensorSpec(fb._text(t.name), np.dtype(fb.NUMPY_TYPES[t.type]),
                          tuple(int(d) for d in (t.shape if t.shape is not None else [])),
                          None if q is None else float(q[0][0]), None if q is None else int(q[1][0]))

    inputs = [spec(i) for i in sg.inputs]
    subnet = [k for k, s in enumerate(inputs) if s.name == "subnet" and s.dtype == np.int32]
    data = [s for k, s in enumerate(inputs) if k not in subnet]
    if len(data) != 1 or (subnet and subnet[0] != len(inputs) - 1):
        raise modelfile.ModelFileError(f"the harness runs models with one data input (plus `subnet`); this one has "
                                       f"inputs {[s.name for s in inputs]}")
    table = modelfile.level_table(tflite)
    num_levels = 0
    if subnet:
        num_levels = len(table["levels"]) if table and table.get("levels") else 0
        if not num_levels:
            raise modelfile.ModelFileError("the file has a `subnet` input but no keras_subnets.levels table")
    return ModelSpec(data[0], [spec(i) for i in sg.outputs], subnet[0] if subnet else -1, num_levels)


def quantize_inputs(spec: TensorSpec, x: np.ndarray) -> np.ndarray:
    """``x`` (one sample per row) as the input tensor's type: float quantized for int8, int8 kept."""
    x = np.asarray(x)
    if x.shape[1:] != spec.shape[1:] and x.shape == spec.shape[1:]:
        x = x[None]
    if tuple(x.shape[1:]) != tuple(spec.shape[1:]):
        raise ValueError(f"inputs of shape {x.shape[1:]} do not match input '{spec.name}' {spec.shape}")
    if spec.dtype == np.int8 and x.dtype != np.int8:
        return np.clip(np.round(x / spec.scale + spec.zero_point), -128, 127).astype(np.int8)
    return x.astype(spec.dtype)


def _c_bytes(name: str, data: bytes) -> str:
    body = ",".join(str(b) for b in data) or "0"
    return f"alignas(16) static const unsigned char {name}[] = {{{body}}};\n"


def _c_ints(name: str, values: Sequence[int]) -> str:
    body = ",".join(str(int(v)) for v in values) or "0"
    return f"static const int32_t {name}[] = {{{body}}};\n"


def run_config(spec: ModelSpec, samples: np.ndarray, levels: Sequence[int], probes: Sequence[int], profile: bool,
               arena_bytes: int) -> str:
    """The ``run_config.h`` main.cc includes."""
    return "".join([
        "// Generated by keras_subnets/firmware/runner.py\n#include <stddef.h>\n#include <stdint.h>\n",
        f"#define KS_ARENA_BYTES {int(arena_bytes)}\n",
        _c_bytes("ks_inputs", samples.tobytes()),
        f"static const size_t ks_input_bytes = {spec.input.nbytes};\n",
        f"static const int ks_num_samples = {len(samples)};\n",
        f"static const int ks_subnet_input = {spec.subnet_input};\n",
        _c_ints("ks_levels", levels), f"static const int ks_num_levels = {len(levels)};\n",
        _c_ints("ks_probes", probes), f"static const int ks_num_probes = {len(probes)};\n",
        f"static const int ks_profile = {int(bool(profile))};\n",
    ])


@dataclasses.dataclass
class Firmware:
    """A built firmware image and what it was built from."""

    elf: Path
    target: str
    spec: ModelSpec
    levels: list[int]
    probes: list[int]
    samples: int
    profile: bool
    model_bytes: int
    library: build.TflmLibrary


def _ks_sources() -> list[Path]:
    ks = build.REPO_ROOT / "tflm_ops"
    files = [*sorted((ks / "core").glob("*")), *sorted((ks / "include").glob("*")), *sorted((ks / "tflm").glob("*.*")),
             *sorted((CORTEX_M_DIR / "src").glob("*")), *sorted((CORTEX_M_DIR / "include").glob("*")),
             CORTEX_M_DIR / "ld" / "mps2.ld", FIRMWARE_DIR / "Makefile"]
    return [f for f in files if f.is_file()]


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little") + part)
    return h.hexdigest()[:16]


def _make(args: list[str], what: str) -> None:
    proc = subprocess.run(["make", "-s", "-C", str(FIRMWARE_DIR), *args], capture_output=True, text=True,
                          env=dict(os.environ, PATH=build._make_path()))
    if proc.returncode != 0:
        raise FirmwareError(f"building {what} failed:\n{(proc.stdout + proc.stderr)[-6000:]}",
                            proc.stdout + proc.stderr)


def build_firmware(
    tflite: bytes,
    target: str,
    inputs: np.ndarray,
    *,
    levels: Sequence[int] | None = None,
    probes: Sequence[int] = (),
    profile: bool = False,
    arena_bytes: int = DEFAULT_ARENA_BYTES,
    ks_defines: Sequence[str] = (),
    opt: str = "-O2",
    tflm_root: str | os.PathLike | None = None,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
    app_src: str | os.PathLike | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Firmware:
    """Builds the harness around ``tflite`` for ``target`` (``x86``, ``m4``, ``m7``).

    Args:
        tflite: the model file's bytes (a converted nested file or a plain one).
        target: where it runs.
        inputs: samples (float, quantized to the input's type, or already int8).
        levels: levels to run, each on every sample (default: every level;
            ignored for a plain file, which runs once per sample).
        probes: levels run on sample 0 after the main pass, with the same
            interpreter (e.g. an out-of-range level, then a valid one).
        profile: add a pass with a per-operator profiler (level by level, sample 0).
        arena_bytes: the tensor arena's size.
        ks_defines: extra preprocessor flags for our sources (``-DKS_NO_FLOAT32``).
        opt: optimization flag for our sources and main.cc.
        tflm_root, jobs, progress: see `build.build_library`.
        app_src: another application instead of ``runner/main.cc`` (it gets
            the same ``model_data.h``; `run_firmware` parses only the runner's output).
        extra_headers: more generated headers for ``app_src`` (name -> text).

    Raises:
        TflmNotFoundError, ToolchainMissingError, ModelFileError, FirmwareError.
    """
    tflite = modelfile.read(tflite)
    spec = model_spec(tflite)
    ops = modelfile.ops_needed(tflite)
    lib = build.build_library(target, ops=[op for op in ops.builtin if op in build.BUILTIN_KERNELS],
                              tflm_root=tflm_root, jobs=jobs, progress=progress)
    missing = [op for op in ops.builtin if op not in build.BUILTIN_KERNELS]
    if missing:
        raise modelfile.ModelFileError(f"the harness does not build TFLM kernels for {', '.join(missing)}")
    if spec.subnet_input < 0:
        levels = [0]
    elif levels is None:
        levels = list(range(spec.num_levels))
    samples = quantize_inputs(spec.input, inputs)
    config = run_config(spec, samples, list(levels), list(probes), profile, arena_bytes)
    source, header = modelfile.export_c(tflite, "g_model", "model_data.h")
    make_common = [f"CPU={target}", f"TFLM_FLAGS_MK={lib.flags_mk}", f"OPT={opt}",
                   "KS_DEFINES=" + " ".join(ks_defines)]
    ks_key = _digest([*(p.read_bytes() for p in _ks_sources()), " ".join(make_common).encode()])
    ks_dir = lib.gendir / f"ks-{ks_key}"
    with build._locked(lib.gendir / f"ks-{ks_key}.lock"):
        if not (ks_dir / "libks_tflm.a").is_file():
            if progress:
                progress(f"building the KS_* operators for {target}")
            _make([*make_common, f"KS_LIB_DIR={ks_dir}", f"BUILD={ks_dir}", f"-j{max(1, jobs)}", "ks-lib"],
                  f"the KS_* operators for {target}")
    app_src = Path(app_src).resolve() if app_src else FIRMWARE_DIR / "runner" / "main.cc"
    main_cc = app_src.read_bytes()
    extra_headers = dict(extra_headers or {})
    app_key = _digest([ks_key.encode(), str(app_src).encode(), main_cc, source.encode(), header.encode(),
                       config.encode(), *(f"{k}\0{v}".encode() for k, v in sorted(extra_headers.items()))])
    app_dir = lib.gendir / "apps" / app_key
    elf = app_dir / "firmware.elf"
    with build._locked(lib.gendir / "apps" / f"{app_key}.lock"):
        if not elf.is_file():
            model_dir = app_dir / "model"
            model_dir.mkdir(parents=True, exist_ok=True)
            (model_dir / "model_data.cc").write_text(source)
            (model_dir / "model_data.h").write_text(header)
            (model_dir / "run_config.h").write_text(config)
            for name, text in extra_headers.items():
                (model_dir / name).write_text(text)
            _make([*make_common, f"KS_LIB_DIR={ks_dir}", f"BUILD={app_dir}", f"MODEL_DIR={model_dir}",
                   f"APP_SRC={app_src}", "app"],
                  f"the firmware for {target}")
    return Firmware(elf, target, spec, list(levels), list(probes), len(samples), profile, len(tflite), lib)


@dataclasses.dataclass
class FirmwareResult:
    """What one firmware run reported.

    ``outputs[level]`` is the first output of every sample (raw, e.g. int8);
    ``all_outputs[level]`` every output. Instruction counts (Cortex-M only,
    else empty): ``invoke_instructions[level]`` per sample, exact;
    ``profile[level]`` the ``(operator, instructions)`` of each operator of
    sample 0 (when built with ``profile=True``). ``probes`` are
    ``(level, status, outputs or None)``; ``messages`` what TFLM and the
    operators printed (``MicroPrintf``).
    """

    target: str
    exit_code: int
    arena_bytes: int | None
    flash_bytes: int | None
    ram_bytes: int | None
    model_bytes: int
    outputs: dict[int, np.ndarray]
    all_outputs: dict[int, list[np.ndarray]]
    statuses: dict[int, list[int]]
    invoke_instructions: dict[int, list[int]]
    probes: list[tuple[int, int, list[np.ndarray] | None]]
    probe_instructions: list[int]
    profile: dict[int, list[tuple[str, int]]]
    messages: list[str]
    log: str


def elf_sizes(elf: Path) -> tuple[int, int]:
    """``(flash, ram)`` bytes of a 32-bit image: loaded sections (code, read-only data, .data's initial
    values) and static RAM (.data + .bss, the tensor arena included; not the heap or stack reserve)."""
    import struct

    rq = _run_qemu_module()
    image = rq._Elf32(Path(elf))
    (shstrndx,) = struct.unpack_from("<H", image.data, 0x32)  # e_shstrndx of an ELF32 header
    names = image.sections[shstrndx]
    flash = ram = 0
    for sec in image.sections:
        name = image._cstr(names["off"] + sec["name"])
        if not sec["flags"] & 2 or name in (".heap", ".stack"):  # SHF_ALLOC; not the reserves
            continue
        if sec["type"] == 1:  # PROGBITS: stored in flash (.data too: its initial values)
            flash += sec["size"]
            if sec["addr"] >= 0x20000000:
                ram += sec["size"]
        elif sec["type"] == 8:  # NOBITS (.bss)
            ram += sec["size"]
    return flash, ram


def _decode(spec: TensorSpec, hexes: str) -> np.ndarray:
    """One sample's output (the batch dimension of 1 dropped, as the wheel's ``get_output(0)[0]``)."""
    shape = spec.shape[1:] if spec.shape[:1] == (1,) else spec.shape
    return np.frombuffer(bytes.fromhex(hexes), spec.dtype).reshape(shape)


def _parse_outputs(fw: Firmware, field: str) -> list[np.ndarray]:
    parts = field.split(",")
    if len(parts) != len(fw.spec.outputs):
        raise FirmwareError(f"firmware printed {len(parts)} outputs, the model has {len(fw.spec.outputs)}")
    return [_decode(s, p) for s, p in zip(fw.spec.outputs, parts, strict=True)]


_LINE = re.compile(r"^ks: (\w+)(.*)$")


def run_firmware(fw: Firmware, *, timeout: float = 300.0) -> FirmwareResult:
    """Runs a built firmware (natively for x86, else under QEMU with the counting plugin) and parses it."""
    target = build.get_target(fw.target)
    regions: dict[str, list[int]] = {}
    if target.qemu_machine is None:
        try:
            proc = subprocess.run([str(fw.elf)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FirmwareError(f"{fw.elf} did not finish within {timeout} s") from None
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
        flash = ram = None
    else:
        rq = _run_qemu_module()
        plugin = _plugin(rq)
        try:
            res = rq.run_image(fw.elf, cpu=fw.target, plugin=plugin, timeout=timeout)
        except rq.QemuTimeoutError as err:
            raise FirmwareError(str(err), err.stdout) from None
        stdout, stderr, code, regions = res.stdout, res.stderr, res.exit_code, res.regions
        flash, ram = elf_sizes(fw.elf)
    log = stdout + stderr
    messages = [line.strip() for line in log.splitlines() if line.strip() and not line.startswith("ks: ")]
    if code != 0:
        meaning = _EXIT_MEANINGS.get(code, "crashed or faulted")
        raise FirmwareError(f"firmware on {fw.target} exited with {code} ({meaning}): "
                            + ("; ".join(messages[-6:]) or log[-2000:]), log)
    arena = None
    outputs: dict[int, list] = {}
    statuses: dict[int, list[int]] = {}
    probes, tags = [], []
    for line in stdout.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        kind, fields = m.group(1), dict(f.split("=", 1) for f in m.group(2).split())
        if kind == "model":
            arena = int(fields["arena_used_bytes"])
        elif kind == "invoke":
            level, status = int(fields["level"]), int(fields["status"])
            statuses.setdefault(level, []).append(status)
            outputs.setdefault(level, []).append(_parse_outputs(fw, fields["out"]) if "out" in fields else None)
        elif kind == "probe":
            probes.append((int(fields["level"]), int(fields["status"]),
                           _parse_outputs(fw, fields["out"]) if "out" in fields else None))
        elif kind == "profile":
            tags.append((int(fields["level"]), fields["ops"].split(",") if fields["ops"] else []))
    if "ks: done" not in stdout:
        raise FirmwareError(f"firmware on {fw.target} stopped early: {log[-2000:]}", log)
    invoke_counts: dict[int, list[int]] = {}
    if regions:
        counts = list(regions.get("invoke", []))
        for level in fw.levels:
            invoke_counts[level] = [counts.pop(0) for _ in range(fw.samples)]
    profile: dict[int, list[tuple[str, int | None]]] = {}
    op_counts = list(regions.get("op", []))
    for level, names in tags:
        if op_counts:
            profile[level] = [(name, op_counts.pop(0)) for name in names]
        else:
            profile[level] = [(name, None) for name in names]
    first = {lv: np.stack([o[0] for o in outs if o is not None]) if all(o is not None for o in outs) else None
             for lv, outs in outputs.items()}
    return FirmwareResult(
        target=fw.target, exit_code=code, arena_bytes=arena, flash_bytes=flash, ram_bytes=ram,
        model_bytes=fw.model_bytes, outputs=first, all_outputs=outputs, statuses=statuses,
        invoke_instructions=invoke_counts, probes=probes, probe_instructions=list(regions.get("probe", [])),
        profile=profile, messages=messages, log=log)


def _plugin(rq) -> Path:
    api = 2 if rq.qemu_version()[0] >= 9 else 1
    out = build.cache_dir() / "plugin" / f"ks_icount_api{api}.so"
    src = CORTEX_M_DIR / "plugin" / "ks_icount.c"
    out.parent.mkdir(parents=True, exist_ok=True)
    with build._locked(out.with_suffix(".lock")):
        if not out.is_file() or out.stat().st_mtime < src.stat().st_mtime:
            tmp = out.with_suffix(f".{os.getpid()}.so")
            rq.build_plugin(tmp)
            os.replace(tmp, out)
    return out


def require_qemu() -> None:
    """Raises ``ToolchainMissingError`` when qemu-system-arm is missing."""
    if shutil.which(os.environ.get("KS_QEMU", "qemu-system-arm")) is None:
        raise build.ToolchainMissingError("running Cortex-M firmware needs qemu-system-arm "
                                          "(apt-get install qemu-system-arm)")


def run(tflite: bytes, target: str, inputs: np.ndarray, *, timeout: float = 300.0, **kwargs) -> FirmwareResult:
    """`build_firmware` then `run_firmware`."""
    if build.get_target(target).qemu_machine is not None:
        require_qemu()
    return run_firmware(build_firmware(tflite, target, inputs, **kwargs), timeout=timeout)
