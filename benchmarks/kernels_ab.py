# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Instruction counts of two versions of the conv / depthwise kernels, same arrays, same run.

Builds one bare-metal image per source tree (this checkout and --base_root,
e.g. a `git worktree` of main) from the same generated test arrays, runs both
in qemu-system-arm with the exact instruction-counting plugin, checks every
output against the host build of this checkout's core (int8 bit-exact,
float32 within 1e-5 relative), and prints the count of every call of both
and their ratio.  For refactors of a kernel that must not slow it down.

Cases: the benchmark layers of benchmarks/kernels.py that run the kernel
(depthwise: DW 3x3 14x14x64 and the stem conv through its plan, which runs
as a depthwise conv; conv: 1x1, 3x3 and the stem) plus small odd geometries
(stride 2, depth multiplier 2, dilation 2), in every format, int8 unplanned
and planned and float32, at every level (90/75/50/0 % sparsity).

    git worktree add ../ks-base main   # a checkout of the version to compare with
    python -m benchmarks.kernels_ab --base_root ../ks-base --op depthwise_conv --cpu m4
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from absl import app, flags

ROOT = Path(__file__).resolve().parents[1]

from benchmarks import kernels as bk  # noqa: E402
from benchmarks import report  # noqa: E402
from keras_subnets.firmware import kernel_image as ki  # noqa: E402

kb = ki.kb

BASE_ROOT = flags.DEFINE_string("base_root", None, "Checkout of the version to compare with (its tflm_ops is built).")
OP = flags.DEFINE_enum("op", "depthwise_conv", ["depthwise_conv", "conv"], "Kernel whose cases are run.")
CPU = flags.DEFINE_enum("cpu", "m4", ["m4", "m7"], "CPU to count on.")

# name, x shape, y shape, rows, cols, in channels, (kernel, stride, dilation, pad, depth multiplier)
SMALL = {
    "depthwise_conv": [
        ("dw 3×3/2 ×2 9×9×4", (1, 9, 9, 4), (1, 5, 5, 8), 8, 9, 4, (3, 2, 1, 1, 2)),
        ("dw 5×5 dil 2 20×20×16", (1, 20, 20, 16), (1, 20, 20, 16), 16, 25, 16, (5, 1, 2, 4, 1)),
        ("dw 3×3 40×40×8", (1, 40, 40, 8), (1, 40, 40, 8), 8, 9, 8, (3, 1, 1, 1, 1)),
    ],
    "conv": [
        ("3×3/2 9×9×5→4", (1, 9, 9, 5), (1, 4, 4, 4), 4, 45, 5, (3, 2, 1, 1, 0)),
        ("3×3 dil 2 9×9×4→5", (1, 9, 9, 4), (1, 5, 5, 5), 5, 36, 4, (3, 1, 2, 0, 0)),
        ("1×1/2 7×7×8→6", (1, 7, 7, 8), (1, 4, 4, 6), 6, 8, 8, (1, 2, 1, 0, 0)),
    ],
}
VARIANTS = (("int8", False), ("int8", True), ("float32", False))


def cases(op: str) -> list:
    """The benchmark layers and small geometries that run `op`, in every format and variant."""
    out = []
    seed = 0
    keys = ["dw", "stem"] if op == "depthwise_conv" else ["pw", "c3", "stem"]
    for key in keys:
        name, lop, xs, ys, rows, cols, cin, _g = bk.LAYERS[key]
        geom = kb.ConvGeometry(**vars(bk._geometry(key)))
        for fmt in ki.FORMATS:
            seed += 1
            for dtype, planned in VARIANTS:
                if op == "depthwise_conv" and lop == "conv" and not planned:
                    continue  # only its plan runs the depthwise kernel
                out.append(
                    ki.Case(name, lop, dtype, fmt, xs, ys, rows, cols, cin, geometry=geom, density=bk.DENSITY,
                            seed=seed, planned=planned)
                )
    for name, xs, ys, rows, cols, cin, (k, s, d, p, dm) in SMALL[op]:
        geom = kb.ConvGeometry(k, k, s, s, d, d, p, p, dm)
        for fmt in ki.FORMATS:
            seed += 1
            for dtype, planned in VARIANTS:
                out.append(
                    ki.Case(name, op, dtype, fmt, xs, ys, rows, cols, cin, geometry=geom, density=bk.DENSITY,
                            seed=seed, planned=planned)
                )
    return out


def main(argv):
    del argv
    if BASE_ROOT.value is None:
        raise SystemExit("--base_root: a checkout of the version to compare with")
    t0 = time.time()
    trees = {"base": Path(BASE_ROOT.value).resolve(), "this": ROOT}
    cs = cases(OP.value)
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = kb.load_library(kb.build_library(tmp / "host"))
        plugin = ki.rq.build_plugin(tmp / "ks_icount.so")
        for tag, root in trees.items():
            bk._progress(f"kernels_ab: building + running the {tag} image for {CPU.value}")
            img = ki.build_image(cs, CPU.value, tmp / tag, lib, name=f"ab_{tag}", root=root)
            res = ki.run(img, plugin, timeout=1800)
            if res.exit_code != 0:
                raise SystemExit(f"{tag}: {res.exit_code} failures\n{res.stdout[-3000:]}")
            counts[tag] = res.regions["k"]
    print(file=sys.stderr)
    rows, groups = [], {}
    worst = 0.0
    for i, c in enumerate(img.calls):
        if c.status != kb.KS_OK:
            continue
        a, b = counts["base"][i], counts["this"][i]
        worst = max(worst, b / a)
        how = "plan" if c.case.planned else "unplanned"
        rows.append([c.case.name, c.case.dtype, how, c.case.fmt, c.level, f"{a:,}", f"{b:,}", f"{b / a:.4f}"])
        groups.setdefault((c.case.name, c.case.dtype, how), []).append((a, b))
    header = ["layer", "dtype", "call", "format", "level", f"{CPU.value} base", f"{CPU.value} this", "this ÷ base"]
    print(report.markdown_table(header, rows))
    total_a, total_b = sum(counts["base"]), sum(counts["this"])
    summary = (f"sum {total_a:,} / {total_b:,} = {total_b / total_a:.4f}; largest ratio {worst:.4f} "
               f"({time.time() - t0:.0f} s)")
    print("\n" + summary)
    if flags.FLAGS.write:  # benchmarks.kernels' --write: the summary goes to section kernels_ab_<op>_<cpu>
        _write(trees["base"], groups, summary)


def _write(base: Path, groups: dict, summary: str) -> None:
    """One row per layer, dtype and call: min / max ratio over formats and levels, and the sums."""
    try:
        base_commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True,
                                     text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        base_commit = "unknown"
    rows = []
    for (name, dtype, how), pairs in groups.items():
        ratios = [b / a for a, b in pairs]
        rows.append([name, dtype, how, len(pairs), f"{min(ratios):.4f}", f"{max(ratios):.4f}",
                     f"{sum(a for a, _ in pairs):,}", f"{sum(b for _, b in pairs):,}"])
    # The checkout's path is the measuring machine's business: the section names its commit.
    command = report.provenance().replace(BASE_ROOT.value, f"<checkout of {base_commit}>")
    body = (command + f"- base: commit {base_commit} (`--base_root`)\n\n"
            f"`{OP.value}` kernels of this commit against the base, Cortex-{CPU.value.upper()} under QEMU, exact "
            "instruction counts of each call, the same arrays in both images; every output checked against the "
            "host build (int8 bit-exact). Ratios are this ÷ base over the four formats × four levels of each "
            "row.\n\n"
            + report.markdown_table(["layer", "dtype", "call", "calls", "min ratio", "max ratio",
                                     "base instr.", "this instr."], rows)
            + f"\n\n{summary}\n")
    report.write_section(f"kernels_ab_{OP.value}_{CPU.value}",
                         f"Kernel A/B: {OP.value} on Cortex-{CPU.value.upper()} against commit {base_commit}", body)

if __name__ == "__main__":
    app.run(main)
