# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Build and run the bare-metal Cortex-M images under QEMU and count instructions.

Library use::

    from keras_subnets.firmware.qemu import build_images, run_image
    elfs = build_images("m4", build_dir)                 # make -C tflm_ops/cortex_m
    res = run_image(elfs["fc_ref"], cpu="m4", plugin=elfs.plugin)
    res.exit_code, res.stdout, res.regions["ref_fc"]     # -> 0, "...", [474xxx, ...]

Command line::

    python -m keras_subnets.firmware.qemu --cpu m4 tflm_ops/cortex_m/build/m4/fc_ref.elf [--json]

`regions` maps every KS_BENCH region name to the list of instruction counts of
its executions, in order.  A count is the number of guest instructions
executed strictly between KS_BENCH_BEGIN(name) and KS_BENCH_END(name) (the
fixed marker overhead is subtracted), counted by the ks_icount TCG plugin;
counts are exact and repeat run to run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parents[2] / "tflm_ops" / "cortex_m"  # the Cortex-M build files
MACHINES = {"m4": "mps2-an386", "m7": "mps2-an500"}
CROSS_GCC = "arm-none-eabi-gcc"
# Instructions of marker code between the two plugin events (ks_bench.h).
MARKER_OVERHEAD = 5


class ToolMissingError(RuntimeError):
    """A required program (QEMU, cross compiler, host compiler, make) is absent."""


class QemuTimeoutError(RuntimeError):
    """The image did not exit in time; `stdout` holds what it printed."""

    def __init__(self, msg: str, stdout: str):
        super().__init__(msg)
        self.stdout = stdout


@dataclasses.dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    regions: dict[str, list[int]]
    total_instructions: int | None  # whole run, when QEMU ran the plugin's exit hook
    command: list[str]


class BuildResult(dict):
    """Image name -> ELF path; `.plugin` the plugin, `.log` make's output."""

    plugin: pathlib.Path
    log: str
    failed: list[str]


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise ToolMissingError(f"'{tool}' not found on PATH; {hint}")
    return path


def qemu_program() -> str:
    """The QEMU binary: $KS_QEMU, else qemu-system-arm."""
    return os.environ.get("KS_QEMU", "qemu-system-arm")


def require_qemu() -> str:
    return _require(qemu_program(), "install it with `apt-get install qemu-system-arm`")


def require_toolchain() -> str:
    _require("make", "install it with `apt-get install make`")
    return _require(CROSS_GCC, "install it with `apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi`")


def qemu_version() -> tuple[int, ...]:
    out = subprocess.run([require_qemu(), "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise RuntimeError(f"cannot parse QEMU version from {out!r}")
    return tuple(int(g) for g in m.groups())


def build_images(
    cpu: str,
    build_dir: str | os.PathLike,
    images: list[str] | None = None,
    *,
    jobs: int = 1,
    keep_going: bool = False,
    extra_make_args: list[str] | None = None,
) -> BuildResult:
    """Run the Makefile for `cpu` into `build_dir`; return the ELF paths.

    With keep_going, images that fail to build (e.g. while tflm_ops/core is
    broken) are left out of the result instead of raising; `.log` holds the
    make output and `.failed` their names.
    """
    if cpu not in MACHINES:
        raise ValueError(f"cpu must be one of {sorted(MACHINES)}, got {cpu!r}")
    require_toolchain()
    qemu = require_qemu()  # the plugin's API version is derived from the QEMU version
    build_dir = pathlib.Path(build_dir).resolve()
    args = ["make", "-C", str(HERE), f"-j{jobs}", f"CPU={cpu}", f"BUILD={build_dir}", f"QEMU={qemu}"]
    args.append(f"PYTHON={sys.executable}")
    if keep_going:
        args.append("-k")
    if images is not None:
        args.append("IMAGES=" + " ".join(images))
    args += extra_make_args or []
    if images is None:
        images = sorted(p.stem for p in (HERE / "apps").glob("*.c"))
    for name in images:  # never report a stale image as built
        (build_dir / f"{name}.elf").unlink(missing_ok=True)
    proc = subprocess.run(args, capture_output=True, text=True)
    log = f"$ {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
    plugin = build_dir / "ks_icount.so"
    built = {name: build_dir / f"{name}.elf" for name in images}
    failed = [name for name, path in built.items() if not path.is_file()]
    if proc.returncode != 0 and (not keep_going or not plugin.is_file()):
        raise RuntimeError(f"build failed:\n{log[-8000:]}")
    res = BuildResult({k: v for k, v in built.items() if k not in failed})
    res.plugin, res.log, res.failed = plugin, log, failed
    return res


# ---------------------------------------------------------------- ELF reading
class _Elf32:
    """Just enough of an ELF32 little-endian reader: symbols and loaded bytes."""

    def __init__(self, path: pathlib.Path):
        self.data = data = path.read_bytes()
        if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
            raise ValueError(f"{path} is not a 32-bit little-endian ELF file")
        (shoff,) = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
        self.sections = []
        for i in range(shnum):
            (name, typ, flags, addr, off, size, link, _info, _align, entsize) = struct.unpack_from(
                "<IIIIIIIIII", data, shoff + i * shentsize
            )
            self.sections.append(
                dict(
                    name=name,
                    type=typ,
                    flags=flags,
                    addr=addr,
                    off=off,
                    size=size,
                    link=link,
                    entsize=entsize,
                )
            )

    def _cstr(self, off: int) -> str:
        end = self.data.index(b"\0", off)
        return self.data[off:end].decode("utf-8", "replace")

    def symbols(self) -> dict[str, int]:
        syms = {}
        for sec in self.sections:
            if sec["type"] != 2:  # SHT_SYMTAB
                continue
            strtab = self.sections[sec["link"]]
            for k in range(sec["size"] // 16):
                name, value, _size, _info, _other, _shndx = struct.unpack_from(
                    "<IIIBBH", self.data, sec["off"] + 16 * k
                )
                if name:
                    syms[self._cstr(strtab["off"] + name)] = value
        return syms

    def string_at(self, addr: int) -> str:
        for sec in self.sections:
            alloc, progbits = sec["flags"] & 2, sec["type"] == 1
            if alloc and progbits and sec["addr"] <= addr < sec["addr"] + sec["size"]:
                return self._cstr(sec["off"] + addr - sec["addr"])
        raise KeyError(f"no loaded section holds address 0x{addr:08x}")


# ------------------------------------------------------------------ running
def build_plugin(out: str | os.PathLike | None = None) -> pathlib.Path:
    """Compile the plugin for the installed QEMU (host C compiler needed)."""
    api = 2 if qemu_version()[0] >= 9 else 1
    out = pathlib.Path(out) if out else HERE / "build" / "host" / f"ks_icount_api{api}.so"
    src = HERE / "plugin" / "ks_icount.c"
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise ToolMissingError("no host C compiler (cc/gcc/clang) to build the QEMU plugin")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", f"-DKS_PLUGIN_API_VERSION={api}", "-o", str(out), str(src)],
        check=True,
    )
    return out


def pair_regions(events: list[tuple[str, str, int]], overhead: int = MARKER_OVERHEAD):
    """(kind 'B'/'E', name, counter) events -> {name: [count, ...]}."""
    open_at: dict[str, list[int]] = {}
    regions: dict[str, list[int]] = {}
    for kind, name, count in events:
        if kind == "B":
            open_at.setdefault(name, []).append(count)
        else:
            if not open_at.get(name):
                raise RuntimeError(f"KS_BENCH_END({name}) without a matching KS_BENCH_BEGIN")
            regions.setdefault(name, []).append(count - open_at[name].pop() - overhead)
    unclosed = [n for n, stack in open_at.items() if stack]
    if unclosed:
        raise RuntimeError(f"KS_BENCH_BEGIN without KS_BENCH_END for: {', '.join(unclosed)}")
    return regions


def run_image(
    elf: str | os.PathLike,
    *,
    cpu: str = "m4",
    timeout: float = 60.0,
    plugin: str | os.PathLike | None = None,
    count: bool = True,
    extra_qemu_args: list[str] | None = None,
) -> RunResult:
    """Run `elf` on the QEMU board of `cpu`; return output, exit code and counts."""
    if cpu not in MACHINES:
        raise ValueError(f"cpu must be one of {sorted(MACHINES)}, got {cpu!r}")
    qemu = require_qemu()
    elf = pathlib.Path(elf).resolve()
    if not elf.is_file():
        raise FileNotFoundError(elf)
    cmd = [
        qemu,
        "-M",
        MACHINES[cpu],
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        str(elf),
    ]
    with tempfile.TemporaryDirectory(prefix="ks_qemu_") as tmp:
        log = pathlib.Path(tmp) / "events.txt"
        image = None
        if count:
            image = _Elf32(elf)
            syms = image.symbols()
            plugin_path = pathlib.Path(plugin) if plugin else build_plugin()
            if "," in str(plugin_path) or "," in str(log):
                raise ValueError("QEMU plugin paths must not contain commas")
            plugin_arg = f"{plugin_path.resolve()},outfile={log}"
            if "ks_bench_begin_mark" in syms:
                plugin_arg += (
                    f",begin=0x{syms['ks_bench_begin_mark'] & ~1:x},end=0x{syms['ks_bench_end_mark'] & ~1:x}"
                )
            cmd += ["-plugin", plugin_arg]
        cmd += extra_qemu_args or []
        try:
            proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"").decode("utf-8", "replace")
            raise QemuTimeoutError(
                f"{elf.name} on {MACHINES[cpu]} did not exit within {timeout} s", out
            ) from None
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        events, total = [], None
        if count:
            if not log.exists():
                raise RuntimeError(f"QEMU did not load the counting plugin:\n{stderr}")
            names: dict[int, str] = {}
            for line in log.read_text().splitlines():
                parts = line.split()
                if parts[0] in ("B", "E"):
                    addr = int(parts[1], 16)
                    if addr not in names:
                        names[addr] = image.string_at(addr)
                    events.append((parts[0], names[addr], int(parts[2])))
                elif parts[0] == "T":
                    total = int(parts[1])
    return RunResult(
        exit_code=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        regions=pair_regions(events),
        total_instructions=total,
        command=cmd,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run a Cortex-M image under QEMU with counting.")
    ap.add_argument("elf")
    ap.add_argument("--cpu", choices=sorted(MACHINES), default="m4")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--plugin", help="ks_icount.so to use (default: build one for this QEMU)")
    ap.add_argument("--no-count", action="store_true", help="run without the counting plugin")
    ap.add_argument("--json", action="store_true", help="print a JSON summary instead")
    args = ap.parse_args(argv)
    try:
        res = run_image(
            args.elf,
            cpu=args.cpu,
            timeout=args.timeout,
            plugin=args.plugin,
            count=not args.no_count,
        )
    except (ToolMissingError, QemuTimeoutError) as exc:
        print(f"run_qemu: {exc}", file=sys.stderr)
        return 125
    if args.json:
        print(json.dumps(dataclasses.asdict(res), indent=2))
    else:
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        for name, counts in res.regions.items():
            shown = ", ".join(f"{c:,}" for c in counts)
            print(f"[ks_bench] {name}: {shown} instructions")
        if res.total_instructions is not None:
            print(f"[ks_bench] total: {res.total_instructions:,} instructions")
        print(f"[ks_bench] exit status {res.exit_code}")
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
