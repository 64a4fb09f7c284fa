# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Builds TensorFlow Lite Micro's ``libtensorflow-microlite.a`` from a TFLM tree, out of tree and cached.

keras-subnets contains no TFLM code: the user (or the tests) point at a
tflite-micro checkout whose third-party downloads (flatbuffers, gemmlowp, CMSIS,
CMSIS-NN, ...) are present, and this module runs TFLM's own Makefile on it with
only the kernels a model needs:

- ``x86``: the host, TFLM's reference kernels;
- ``m4`` / ``m7``: ``TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp|cortex-m7+fp
  OPTIMIZED_KERNEL_DIR=cmsis_nn`` with Debian's ``arm-none-eabi-gcc``.

Objects and the library go to ``<cache>/<tree id>/gen-<target>-<flags hash>/``
(``GENDIR``), never into the tree: the tree can be read-only. The tree id hashes
the tree's sources, the flags hash the make arguments (kernel list included), so
an edited tree or another kernel set gets its own build, and an unchanged one is
reused. A file lock makes concurrent builds of the same configuration wait for
each other instead of colliding.

Naming kernels on the command line (``MICROLITE_CC_KERNEL_SRCS=...``) overrides
the Makefile's own list *and* the step that swaps in the ``kernels/cmsis_nn/``
variants, so for CMSIS-NN targets the variants and the CMSIS-NN sources
(``THIRD_PARTY_KERNEL_CC_SRCS``) are named here explicitly.

Example:
    >>> from keras_subnets.firmware import build
    >>> lib = build.build_library("m4", ops=["CONV_2D", "MEAN"])
    >>> lib.library, lib.cxxflags
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = REPO_ROOT / "tflm_ops" / "firmware"
PRINT_VARS_MK = FIRMWARE_DIR / "print_vars.mk"
MAKEFILE = "tensorflow/lite/micro/tools/make/Makefile"
DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"
KERNELS_DIR = "tensorflow/lite/micro/kernels"
CMSIS_NN_SOURCE = f"{DOWNLOADS}/cmsis_nn/Source"
# The downloads a microlite build needs (kissfft/ruy only for headers some kernels include).
REQUIRED_DOWNLOADS = ("flatbuffers", "gemmlowp", "kissfft", "ruy")
CMSIS_DOWNLOADS = ("cmsis", "cmsis_nn")

# Builtin operator -> (MicroMutableOpResolver method, kernel sources without .cc).
BUILTIN_KERNELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ADD": ("AddAdd", ("add", "add_common")),
    "AVERAGE_POOL_2D": ("AddAveragePool2D", ("pooling", "pooling_common")),
    "CONCATENATION": ("AddConcatenation", ("concatenation",)),
    "CONV_2D": ("AddConv2D", ("conv", "conv_common")),
    "DEPTHWISE_CONV_2D": ("AddDepthwiseConv2D", ("depthwise_conv", "depthwise_conv_common")),
    "DEQUANTIZE": ("AddDequantize", ("dequantize", "dequantize_common")),
    # 1-D layers: TensorFlow wraps their 2-D operator in EXPAND_DIMS / RESHAPE.
    "EXPAND_DIMS": ("AddExpandDims", ("expand_dims",)),
    "FULLY_CONNECTED": ("AddFullyConnected", ("fully_connected", "fully_connected_common")),
    "HARD_SWISH": ("AddHardSwish", ("hard_swish", "hard_swish_common")),
    "LEAKY_RELU": ("AddLeakyRelu", ("leaky_relu", "leaky_relu_common")),
    "LOGISTIC": ("AddLogistic", ("logistic", "logistic_common")),
    "MAX_POOL_2D": ("AddMaxPool2D", ("pooling", "pooling_common")),
    "MEAN": ("AddMean", ("reduce", "reduce_common")),
    "MUL": ("AddMul", ("mul", "mul_common")),
    "PAD": ("AddPad", ("pad", "pad_common")),
    "QUANTIZE": ("AddQuantize", ("quantize", "quantize_common")),
    "REDUCE_MAX": ("AddReduceMax", ("reduce", "reduce_common")),  # global max pooling
    "RELU": ("AddRelu", ("activations", "activations_common")),
    "RELU6": ("AddRelu6", ("activations", "activations_common")),
    "RESHAPE": ("AddReshape", ("reshape", "reshape_common")),
    "SOFTMAX": ("AddSoftmax", ("softmax", "softmax_common")),
    "SQUEEZE": ("AddSqueeze", ("squeeze",)),
    "STRIDED_SLICE": ("AddStridedSlice", ("strided_slice", "strided_slice_common")),
    "SUM": ("AddSum", ("reduce", "reduce_common")),
    "TANH": ("AddTanh", ("tanh",)),
}
# Every library gets these (what the quickstart CNN, DS-CNN S and their plain
# baselines need), so the usual files share one cached build.
DEFAULT_OPS = ("AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "LEAKY_RELU", "MEAN",
               "RESHAPE", "SOFTMAX")
SUPPORT_KERNELS = ("kernel_util", "micro_tensor_utils")
# CMSIS-NN source folders the cmsis_nn kernel variants call into: always, and per operator.
CMSIS_NN_FOLDERS = ("ConvolutionFunctions", "FullyConnectedFunctions", "NNSupportFunctions", "PoolingFunctions",
                    "SoftmaxFunctions")
CMSIS_NN_OP_FOLDERS = {"ADD": "BasicMathFunctions", "MUL": "BasicMathFunctions", "PAD": "PadFunctions"}

CROSS_PREFIX = "arm-none-eabi-"


class TflmNotFoundError(RuntimeError):
    """No usable TFLM tree (missing, or without its third-party downloads)."""


class ToolchainMissingError(RuntimeError):
    """A compiler or make is missing for the requested target."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A build target: ``x86`` (host, reference kernels), ``m4``, ``m7`` (CMSIS-NN)."""

    name: str
    make_args: tuple[str, ...]
    cmsis_nn: bool
    qemu_machine: str | None  # None: runs natively


def _arm_target(name: str, arch: str, machine: str) -> Target:
    return Target(name, ("TARGET=cortex_m_generic", f"TARGET_ARCH={arch}", "OPTIMIZED_KERNEL_DIR=cmsis_nn"),
                  True, machine)


TARGETS: dict[str, Target] = {
    "x86": Target("x86", (), False, None),
    "m4": _arm_target("m4", "cortex-m4+fp", "mps2-an386"),
    "m7": _arm_target("m7", "cortex-m7+fp", "mps2-an500"),
}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {name!r}")
    return TARGETS[name]


def default_tflm_candidates() -> list[Path]:
    """Where a TFLM tree is looked for: ``$TFLM_ROOT``, else ``../shared/tflm/tflite-micro`` next to the clone."""
    if os.environ.get("TFLM_ROOT"):
        return [Path(os.environ["TFLM_ROOT"])]
    return [REPO_ROOT.parent / "shared" / "tflm" / "tflite-micro"]


def check_tflm_root(root: str | os.PathLike, *, cmsis_nn: bool = True) -> Path:
    """``root`` resolved, or `TflmNotFoundError` saying what is missing."""
    root = Path(root).expanduser().resolve()
    if not (root / MAKEFILE).is_file():
        raise TflmNotFoundError(f"{root} is not a tflite-micro tree (no {MAKEFILE})")
    needed = REQUIRED_DOWNLOADS + (CMSIS_DOWNLOADS if cmsis_nn else ())
    missing = [d for d in needed if not (root / DOWNLOADS / d).is_dir()]
    if missing:
        raise TflmNotFoundError(
            f"{root} lacks {DOWNLOADS}/{{{','.join(missing)}}}: TFLM's make build would download them; use a tree "
            "with its third-party downloads (see tflm_ops/firmware/README.md)")
    return root


def find_tflm_root(root: str | os.PathLike | None = None, *, cmsis_nn: bool = True) -> Path:
    """The TFLM tree to build from: ``root``, else ``$TFLM_ROOT``, else ``../shared/tflm/tflite-micro``.

    Raises:
        TflmNotFoundError: naming the place looked at and what it lacks.
    """
    if root is not None:
        return check_tflm_root(root, cmsis_nn=cmsis_nn)
    errors = []
    for candidate in default_tflm_candidates():
        try:
            return check_tflm_root(candidate, cmsis_nn=cmsis_nn)
        except TflmNotFoundError as err:
            errors.append(str(err))
    raise TflmNotFoundError("no TFLM tree: set TFLM_ROOT (or --tflm_root) to a tflite-micro checkout with its "
                            "downloads; " + "; ".join(errors))


def require_tools(target: Target) -> None:
    """Raises `ToolchainMissingError` when make or the target's compilers are missing."""
    tools = ["make", "python3"] + ([f"{CROSS_PREFIX}gcc", f"{CROSS_PREFIX}g++"] if target.cmsis_nn else ["gcc", "g++"])
    missing = [t for t in tools if shutil.which(t, path=_make_path()) is None]
    if missing:
        hint = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" if target.cmsis_nn else "apt-get install g++"
        raise ToolchainMissingError(f"building TFLM for {target.name} needs {', '.join(missing)} ({hint})")


_TREE_IDS: dict[Path, str] = {}
_TREE_SUFFIXES = {".cc", ".c", ".h", ".hpp", ".inc", ".S", ".s", ".mk", ".sh", ".py"}


def tree_id(root: Path) -> str:
    """A hash of the tree's build inputs (sources, headers, make files): identifies the TFLM version."""
    root = Path(root).resolve()
    if root in _TREE_IDS:
        return _TREE_IDS[root]
    digest = hashlib.sha256()
    for top in ("tensorflow", "signal", "third_party"):
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d not in ("gen", ".git"))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.suffix in _TREE_SUFFIXES or name == "Makefile":
                    digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    _TREE_IDS[root] = digest.hexdigest()[:16]
    return _TREE_IDS[root]


def cache_dir() -> Path:
    """``$KS_TFLM_CACHE``, else ``~/.cache/keras-subnets/tflm`` (outside any clone)."""
    if os.environ.get("KS_TFLM_CACHE"):
        return Path(os.environ["KS_TFLM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keras-subnets" / "tflm"


def kernel_sources(root: Path, target: Target, ops: Iterable[str]) -> list[str]:
    """Kernel sources (relative to ``root``) for ``ops``, with the ``cmsis_nn`` variants swapped in."""
    unknown = sorted(set(ops) - set(BUILTIN_KERNELS))
    if unknown:
        raise ValueError(f"builtin operator(s) {', '.join(unknown)} not supported by the keras-subnets TFLM build "
                         f"(supported: {', '.join(sorted(BUILTIN_KERNELS))})")
    names = sorted(set(SUPPORT_KERNELS).union(*(BUILTIN_KERNELS[op][1] for op in ops)))
    sources = []
    for name in names:
        optimized = f"{KERNELS_DIR}/cmsis_nn/{name}.cc"
        if target.cmsis_nn and (root / optimized).is_file():
            sources.append(optimized)
        else:
            sources.append(f"{KERNELS_DIR}/{name}.cc")
    for src in sources:
        if not (root / src).is_file():
            raise TflmNotFoundError(f"{root} has no {src} (a different TFLM version?)")
    return sources


def cmsis_nn_sources(root: Path, ops: Iterable[str]) -> list[str]:
    """The int8/int16 CMSIS-NN sources the kernels of ``ops`` call (no float16/32, like TFLM's default)."""
    sources = []
    folders = sorted(set(CMSIS_NN_FOLDERS) | {CMSIS_NN_OP_FOLDERS[op] for op in ops if op in CMSIS_NN_OP_FOLDERS})
    for folder in folders:
        for path in sorted((root / CMSIS_NN_SOURCE / folder).glob("*.c")):
            if not path.name.endswith(("_f16.c", "_f32.c")) and path.name != "arm_nntables_flt.c":
                sources.append(str(path.relative_to(root)))
    if not sources:
        raise TflmNotFoundError(f"{root / CMSIS_NN_SOURCE} holds no CMSIS-NN sources")
    return sources


def _make_path() -> str:
    # TFLM's Makefile runs python3 at parse time needing numpy and Pillow: Debian's python3 has them
    # (python3-numpy, python3-pil), a virtual environment's python3 usually not.
    return os.pathsep.join(["/usr/bin", os.environ.get("PATH", "")])


def _toolchain_version(target: Target) -> str:
    compiler = f"{CROSS_PREFIX}g++" if target.cmsis_nn else "g++"
    out = subprocess.run([compiler, "--version"], capture_output=True, text=True, env=_env()).stdout
    return out.splitlines()[0] if out else compiler


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=_make_path())


@dataclasses.dataclass
class TflmLibrary:
    """A built ``libtensorflow-microlite.a`` and the flags it was compiled with."""

    target: str
    root: Path
    gendir: Path
    library: Path
    flags_mk: Path  # make assignments from print_vars.mk (TFLM_CXX, TFLM_CXXFLAGS, ...)
    variables: dict[str, str]  # the same, as raw strings
    ops: tuple[str, ...]
    build_seconds: float = 0.0

    def split(self, name: str) -> list[str]:
        """A variable as an argument list (``TFLM_CXXFLAGS`` -> ``['-fno-rtti', ...]``)."""
        return shlex.split(self.variables.get(name, ""))

    @property
    def cxx(self) -> str:
        return self.variables["TFLM_CXX"]

    @property
    def cc(self) -> str:
        return self.variables["TFLM_CC"]


def _make_args(root: Path, target: Target, ops: tuple[str, ...]) -> list[str]:
    args = list(target.make_args)
    if target.cmsis_nn:
        arm_gcc = shutil.which(f"{CROSS_PREFIX}gcc", path=_make_path())
        args.append(f"TARGET_TOOLCHAIN_ROOT={os.path.dirname(arm_gcc)}/")
    args.append("MICROLITE_CC_KERNEL_SRCS=" + " ".join(kernel_sources(root, target, ops)))
    if target.cmsis_nn:
        args.append("THIRD_PARTY_KERNEL_CC_SRCS=" + " ".join(cmsis_nn_sources(root, ops)))
    return args


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_flags_mk(path: Path) -> dict[str, str]:
    """``NAME := value`` lines of a print_vars.mk output."""
    variables = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("TFLM_") and " := " in line:
            name, value = line.split(" := ", 1)
            variables[name] = value
    return variables


def build_library(
    target: str = "x86",
    *,
    ops: Iterable[str] = (),
    tflm_root: str | os.PathLike | None = None,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> TflmLibrary:
    """Builds (or reuses) ``libtensorflow-microlite.a`` for ``target``.

    Args:
        target: ``"x86"``, ``"m4"`` or ``"m7"``.
        ops: builtin operators the application registers, by TFLM name
            (``"CONV_2D"``); `DEFAULT_OPS` are always built in.
        tflm_root: the TFLM tree; see `find_tflm_root`.
        jobs: parallel make jobs.
        progress: called with one-line status messages (e.g. ``print``).

    Returns:
        The library, its generation directory and the flags it was built with.

    Raises:
        TflmNotFoundError, ToolchainMissingError, RuntimeError (make failed,
        with the end of its output).
    """
    tgt = get_target(target)
    root = find_tflm_root(tflm_root, cmsis_nn=tgt.cmsis_nn)
    require_tools(tgt)
    ops = tuple(sorted(set(DEFAULT_OPS) | set(ops)))
    args = _make_args(root, tgt, ops)
    key = hashlib.sha256("\n".join([*args, _toolchain_version(tgt)]).encode()).hexdigest()[:12]
    gendir = cache_dir() / tree_id(root) / f"gen-{tgt.name}-{key}"
    flags_mk = gendir / "tflm_flags.mk"
    stamp = gendir / "ks_build.json"
    make = ["make", "-s", "-C", str(root), "-f", MAKEFILE, f"GENDIR={gendir}/", *args]
    with _locked(gendir.parent / f"gen-{tgt.name}-{key}.lock"):
        if stamp.is_file() and flags_mk.is_file():
            variables = read_flags_mk(flags_mk)
            lib = Path(variables.get("TFLM_LIB", ""))
            if lib.is_file():
                return TflmLibrary(tgt.name, root, gendir, lib, flags_mk, variables, ops)
        if progress:
            progress(f"building TFLM microlite for {tgt.name} ({len(ops)} builtin operators) in {gendir}")
        start = time.time()
        proc = subprocess.run([*make, f"-j{max(1, jobs)}", "microlite"], capture_output=True, text=True, env=_env())
        if proc.returncode != 0:
            raise RuntimeError(f"TFLM build for {tgt.name} failed ({' '.join(make[:6])} ...):\n"
                               f"{(proc.stdout + proc.stderr)[-6000:]}")
        proc = subprocess.run([*make, "-f", str(PRINT_VARS_MK), "print-vars"], capture_output=True, text=True,
                              env=_env())
        if proc.returncode != 0:
            raise RuntimeError(f"print_vars.mk failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
        lines = [line for line in proc.stdout.splitlines() if line.startswith("TFLM_")]
        flags_mk.write_text("# Written by keras_subnets.firmware.build (print_vars.mk)\n" + "\n".join(lines) + "\n")
        variables = read_flags_mk(flags_mk)
        lib = Path(variables["TFLM_LIB"])
        if not lib.is_file():
            raise RuntimeError(f"TFLM build for {tgt.name} finished without {lib}")
        seconds = time.time() - start
        stamp.write_text(json.dumps({"target": tgt.name, "root": str(root), "ops": ops, "make_args": args,
                                     "seconds": round(seconds, 1)}, indent=1))
        if progress:
            progress(f"built {lib} in {seconds:.0f} s")
        return TflmLibrary(tgt.name, root, gendir, lib, flags_mk, variables, ops, seconds)


def main(argv: list[str] | None = None) -> int:
    """``python -m keras_subnets.firmware.build m4 [OP ...]``: build and print the library path."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m keras_subnets.firmware.build x86|m4|m7 [BUILTIN_OP ...]", file=sys.stderr)
        return 2
    lib = build_library(argv[0], ops=argv[1:], progress=lambda m: print(m, file=sys.stderr))
    print(lib.library)
    print(lib.flags_mk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
