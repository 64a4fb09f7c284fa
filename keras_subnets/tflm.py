# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Run converted files, KS_* custom operators included, in the tflite-micro wheel.

The ``tflite-micro`` PyPI wheel's interpreter accepts custom operators through
``custom_op_registerers``: names of ``extern "C"`` functions it looks up in the
process. This module builds the host adapter (``tflm_ops/host/`` plus the same
operator code the firmware uses, ``tflm_ops/tflm/`` and ``tflm_ops/core/``) with
the system C/C++ compiler into a cache directory, loads it, and hands its
registerer to the interpreter.

The wheel's binary interface differs from the public TFLM headers, so the
adapter declares it by hand (``tflm_ops/host/ks_wheel_abi.h``). That is only
valid for the pinned wheel version, checked here together with every symbol
the adapter calls, so a mismatch is a `RuntimeError` naming what is missing,
not a crash.

Example:
    >>> from keras_subnets import tflm
    >>> interp = tflm.make_interpreter(tflite_bytes)
    >>> interp.set_input(image, 0)
    >>> interp.set_input(np.array([level], np.int32), 1)
    >>> interp.invoke()
    >>> scores = interp.get_output(0)
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np

WHEEL_VERSION = "0.dev20261023182759"
"""The only ``tflite-micro`` version whose binary interface the adapter knows."""

REGISTERER = "KerasSubnetsRegisterOps"

REQUIRED_SYMBOLS: dict[str, str] = {
    "_ZN6tflite5micro36MicroContextAllocatePersistentBufferEPNS0_13TfLiteContextEm":
        "tflite::micro::MicroContextAllocatePersistentBuffer(TfLiteContext*, unsigned long)",
    "_ZN6tflite5micro39MicroContextRequestScratchBufferInArenaEPNS0_13TfLiteContextEmPi":
        "tflite::micro::MicroContextRequestScratchBufferInArena(TfLiteContext*, unsigned long, int*)",
    "_ZN6tflite5micro28MicroContextGetScratchBufferEPNS0_13TfLiteContextEi":
        "tflite::micro::MicroContextGetScratchBuffer(TfLiteContext*, int)",
    "_ZN6tflite5micro25MicroContextGetEvalTensorEPKNS0_13TfLiteContextEi":
        "tflite::micro::MicroContextGetEvalTensor(TfLiteContext const*, int)",
    "_ZN6tflite5micro25MicroContextReportOpErrorEPNS0_13TfLiteContextEPKcz":
        "tflite::micro::MicroContextReportOpError(TfLiteContext*, char const*, ...)",
}
"""Mangled name -> readable name of every wheel function the adapter calls."""

TFLM_OPS_DIR = Path(__file__).resolve().parents[1] / "tflm_ops"
_C_SOURCES = ("core/*.c",)
_CXX_SOURCES = ("tflm/ks_op.cc", "tflm/ks_flexbuffer.cc", "host/ks_wheel_ops.cc")
_HEADERS = ("include/*.h", "core/*.h", "core/*.inc", "tflm/ks_op.h", "tflm/ks_flexbuffer.h",
            "tflm/ks_kernel_glue.h", "host/*.h")
_CFLAGS = ("-std=c99", "-O2", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra")
_CXXFLAGS = ("-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden", "-fno-exceptions", "-fno-rtti", "-Wall",
             "-Wextra")

_adapter: ctypes.CDLL | None = None


def wheel_version() -> str | None:
    """The installed ``tflite-micro`` version, or None when it is not installed."""
    for name in ("tflite-micro", "tflite_micro"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_wheel_version(version: str | None) -> None:
    """Raises RuntimeError unless ``version`` is the pinned wheel version."""
    if version is None:
        raise RuntimeError(f"the tflite-micro wheel is not installed; keras_subnets.tflm needs tflite-micro=="
                           f"{WHEEL_VERSION}")
    if version.split("+")[0] != WHEEL_VERSION:
        raise RuntimeError(
            f"tflite-micro {version} is installed, but the KS_* host adapter declares the binary interface of "
            f"tflite-micro {WHEEL_VERSION} only (tflm_ops/host/ks_wheel_abi.h); install that version "
            f"(pip install tflite-micro=={WHEEL_VERSION}) or port the adapter")


def check_symbols(exported: Collection[str] | Callable[[str], bool],
                  required: dict[str, str] | None = None) -> None:
    """Raises RuntimeError naming every required wheel symbol that is not exported.

    Args:
        exported: the names ``_runtime.so`` exports, or a predicate telling
            whether a name is exported (e.g. a ``dlsym`` lookup).
        required: mangled -> readable names; defaults to `REQUIRED_SYMBOLS`.
    """
    required = REQUIRED_SYMBOLS if required is None else required
    present = exported if callable(exported) else set(exported).__contains__
    missing = [name for name in required if not present(name)]
    if missing:
        lines = "\n".join(f"  {name}  ({required[name]})" for name in missing)
        raise RuntimeError(
            f"the tflite-micro wheel's _runtime.so does not export {len(missing)} function(s) the KS_* host "
            f"adapter calls; its binary interface is not the one tflm_ops/host/ks_wheel_abi.h declares "
            f"(tflite-micro {WHEEL_VERSION}):\n{lines}")


def _runtime_library() -> ctypes.CDLL:
    """The wheel's already-loaded ``_runtime.so``, re-opened with global symbol visibility."""
    from tflite_micro.python.tflite_micro import _runtime

    # RTLD_NOLOAD: never load a second copy, only promote the one Python
    # imported so the adapter's undefined symbols resolve against it.
    return ctypes.CDLL(_runtime.__file__, mode=os.RTLD_GLOBAL | os.RTLD_NOLOAD)


def _exported_by(lib: ctypes.CDLL) -> Callable[[str], bool]:
    def exported(name: str) -> bool:
        try:
            lib[name]
        except AttributeError:
            return False
        return True

    return exported


def _sources() -> tuple[list[Path], list[Path], list[Path]]:
    def glob(patterns):
        return sorted(p for pattern in patterns for p in TFLM_OPS_DIR.glob(pattern))

    c, cxx, headers = glob(_C_SOURCES), glob(_CXX_SOURCES), glob(_HEADERS)
    if not c or len(cxx) != len(_CXX_SOURCES):
        raise RuntimeError(f"the tflm_ops sources are not in {TFLM_OPS_DIR}; keras_subnets.tflm builds the host "
                           "adapter from a source checkout of keras-subnets")
    return c, cxx, headers


def default_cache_dir() -> Path:
    """``$KERAS_SUBNETS_CACHE``, else ``$XDG_CACHE_HOME/keras_subnets`` (``~/.cache/keras_subnets``)."""
    if os.environ.get("KERAS_SUBNETS_CACHE"):
        return Path(os.environ["KERAS_SUBNETS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keras_subnets"


def build_adapter(cache_dir: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Builds the host adapter shared library unless a build of the same sources exists.

    The file name carries a hash of every source, the flags, the compilers and
    the pinned wheel version, so editing a kernel rebuilds and old builds stay
    valid for their sources.

    Args:
        cache_dir: where to keep builds; defaults to `default_cache_dir`.
        force: rebuild even when the cached library exists.

    Returns:
        The path of ``libks_wheel_ops-<hash>.so``.

    Raises:
        RuntimeError: no compiler, missing sources, or a compile error (with
            the compiler's output).
    """
    c_sources, cxx_sources, headers = _sources()
    cc, cxx = os.environ.get("CC", "gcc"), os.environ.get("CXX", "g++")
    digest = hashlib.sha256()
    for part in (WHEEL_VERSION, cc, cxx, *_CFLAGS, *_CXXFLAGS):
        digest.update(part.encode() + b"\0")
    for path in (*c_sources, *cxx_sources, *headers):
        digest.update(str(path.relative_to(TFLM_OPS_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"libks_wheel_ops-{digest.hexdigest()[:16]}.so"
    if target.exists() and not force:
        return target
    for compiler in (cc, cxx):
        if shutil.which(compiler) is None:
            raise RuntimeError(f"building the KS_* host adapter needs a C/C++ compiler; '{compiler}' is not on PATH "
                               "(set CC / CXX)")
    cache.mkdir(parents=True, exist_ok=True)
    includes = [f"-I{TFLM_OPS_DIR / d}" for d in ("include", "core", "tflm", "host")]
    with tempfile.TemporaryDirectory(dir=cache) as work:
        steps = [
            [cc, *_CFLAGS, *includes, "-c", *map(str, c_sources)],
            [cxx, *_CXXFLAGS, *includes, "-c", *map(str, cxx_sources)],
        ]
        for command in steps:
            _run(command, work)
        objects = sorted(str(p) for p in Path(work).glob("*.o"))
        partial = Path(work) / target.name
        _run([cxx, "-shared", "-o", str(partial), *objects, "-lm"], work)
        os.replace(partial, target)  # atomic: a concurrent build never sees half a file
    return target


def _run(command: list[str], cwd: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building the KS_* host adapter failed:\n$ {' '.join(command)}\n{result.stderr}")


def load_adapter(cache_dir: str | os.PathLike | None = None) -> ctypes.CDLL:
    """Checks the wheel, builds (if needed) and loads the adapter once per process.

    Raises:
        RuntimeError: wrong wheel version, a required symbol missing from
            ``_runtime.so``, or a failed build.
    """
    global _adapter
    if _adapter is not None:
        return _adapter
    check_wheel_version(wheel_version())
    runtime_lib = _runtime_library()
    check_symbols(_exported_by(runtime_lib))
    path = build_adapter(cache_dir)
    # RTLD_GLOBAL: the interpreter finds the registerer with dlsym(RTLD_DEFAULT).
    lib = ctypes.CDLL(str(path), mode=os.RTLD_GLOBAL)
    lib.KerasSubnetsLastError.restype = ctypes.c_char_p
    lib.KerasSubnetsLastError.argtypes = []
    lib.KerasSubnetsClearLastError.restype = None
    lib.KerasSubnetsClearLastError.argtypes = []
    _adapter = lib
    return lib


def _runtime_interpreter_class():
    from tflite_micro.python.tflite_micro import runtime

    class Interpreter(runtime.Interpreter):
        """The wheel's interpreter with the KS_* operators registered.

        A failing Prepare or Invoke raises `RuntimeError` carrying the
        operator's own message (the wheel alone only says that invocation
        failed and prints the reason to stderr).
        """

        def __init__(self, model_data: bytes, arena_size: int | None = None):
            adapter = load_adapter()
            adapter.KerasSubnetsClearLastError()
            try:
                super().__init__(model_data, [REGISTERER], arena_size)
            except RuntimeError as err:
                raise RuntimeError(_explain(err, adapter)) from None

        def invoke(self):
            adapter = load_adapter()
            adapter.KerasSubnetsClearLastError()
            try:
                return super().invoke()
            except RuntimeError as err:
                raise RuntimeError(_explain(err, adapter)) from None

    return Interpreter


def _explain(err: RuntimeError, adapter: ctypes.CDLL) -> str:
    detail = adapter.KerasSubnetsLastError()
    return f"{err}: {detail.decode(errors='replace')}" if detail else str(err)


def make_interpreter(tflite_bytes: bytes, arena_size: int | None = None):
    """A ``tflite_micro.runtime.Interpreter`` that runs ``KS_*`` operators.

    Write the level to run into input 1 (``subnet``, int32 ``[1]``) before
    every `invoke`.

    Args:
        tflite_bytes: a file written by `keras_subnets.convert.convert`.
        arena_size: tensor arena bytes (the wheel's default: 10 x the file).

    Returns:
        A subclass of ``tflite_micro.runtime.Interpreter``, tensors allocated.

    Raises:
        RuntimeError: the wheel or its symbols do not match the adapter, the
            build failed, or an operator refused the file in Prepare (with
            the operator's message).
    """
    return _runtime_interpreter_class()(bytes(tflite_bytes), arena_size)


def run_levels(tflite_bytes: bytes, x: np.ndarray, levels: list[int] | None = None,
               dequantize: bool = False) -> dict[int, np.ndarray]:
    """Runs every level of a converted file on the samples ``x``.

    Args:
        tflite_bytes: a file written by `keras_subnets.convert.convert`.
        x: samples, ``[N, ...]`` with ``...`` the model input's shape without
            its batch dimension. Float samples given to an int8 model are
            quantized with the input's scale and zero point.
        levels: the levels to run; defaults to all (from the file's level
            table).
        dequantize: return int8 outputs as float32 (scale and zero point of
            the output).

    Returns:
        ``{level: outputs}`` with outputs ``[N, ...]`` stacked per sample.
    """
    from keras_subnets.convert import read_levels

    if levels is None:
        levels = [row["level"] for row in read_levels(tflite_bytes)["levels"]]
    from keras_subnets.convert.reference import run_interpreter

    interp = make_interpreter(tflite_bytes)
    results = {level: run_interpreter(interp, x, level, dequantize=dequantize) for level in levels}
    return results
