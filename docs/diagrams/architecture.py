# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Draws docs/architecture.svg, the layers and the data flow of keras-subnets.

    python docs/diagrams/architecture.py          # rewrite docs/architecture.svg
    python docs/diagrams/architecture.py --check  # exit 1 if the SVG lacks a label of this source

The boxes are the stages a model goes through (top row: the data; below each:
the modules that do the work); tests/docs_test.py checks the SVG matches this
source.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "architecture.svg"

# (data the stage produces, modules that produce it, colour)
STAGES = [
    ("Keras model", "your Dense / Conv2D /\nDepthwiseConv2D /\nBatchNormalization", "#e8eef7"),
    ("SubnetModel\n(levels, masks)", "keras_subnets.nest\nlayers/  masks.py\nlevels.py  graph.py", "#e3f1e3"),
    ("trained levels", "models/ (model.fit:\nΣ wₖ·Lₖ per step)\ncallbacks/  reds/  lcs/", "#e3f1e3"),
    ("model.tflite\n(one file, every level)",
     "convert/ (converter,\nformats, quantization)\ndensify: plain oracle", "#fdf0dc"),
    ("KS_* operators\non TFLM", "tflm_ops/tflm/ks_op.cc\n(Prepare: validate, plan;\nEval: read `subnet`)", "#f6e3e3"),
    ("a level's output\n(µs to switch)",
     "tflm_ops/core/ kernels\nks_run_s8 · ks_dense_*\n(CMSIS-NN on Cortex-M)", "#f6e3e3"),
]
# Where each stage runs, drawn as bands under the boxes.
BANDS = [
    (0, 2, "Keras 3: TensorFlow, JAX or PyTorch"),
    (3, 3, "TensorFlow converter"),
    (4, 5, "device: TFLM + C99 core (host: tflite-micro wheel)"),
]
CHECKS = "oracles: Keras forward pass · TFLite · tflite-micro wheel on densify(level) · numpy · Cortex-M under QEMU"


def draw() -> bytes:
    plt.rcParams["svg.hashsalt"] = "keras-subnets"
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: small, diffable, searchable
    plt.rcParams["font.family"] = "DejaVu Sans"
    fig, ax = plt.subplots(figsize=(15, 4.6))
    ax.set_xlim(0, len(STAGES) * 2.5)
    ax.set_ylim(0, 4.6)
    ax.axis("off")
    for i, (data, modules, colour) in enumerate(STAGES):
        x = 0.2 + i * 2.5
        ax.add_patch(FancyBboxPatch((x, 3.0), 2.0, 1.1, boxstyle="round,pad=0.05", fc=colour, ec="#444"))
        ax.text(x + 1.0, 3.55, data, ha="center", va="center", fontsize=10, weight="bold")
        ax.add_patch(FancyBboxPatch((x, 1.25), 2.0, 1.35, boxstyle="round,pad=0.05", fc="white", ec="#999"))
        ax.text(x + 1.0, 1.92, modules, ha="center", va="center", fontsize=8.2, family="DejaVu Sans Mono")
        ax.add_patch(FancyArrowPatch((x + 1.0, 2.62), (x + 1.0, 2.98), arrowstyle="-|>", mutation_scale=10,
                                     color="#999"))
        if i + 1 < len(STAGES):
            ax.add_patch(FancyArrowPatch((x + 2.08, 3.55), (x + 2.62, 3.55), arrowstyle="-|>", mutation_scale=14,
                                         color="#333", lw=1.5))
    for first, last, label in BANDS:
        x0, x1 = 0.2 + first * 2.5, 0.2 + last * 2.5 + 2.0
        ax.add_patch(FancyBboxPatch((x0, 0.55), x1 - x0, 0.42, boxstyle="round,pad=0.02", fc="#f2f2f2", ec="#bbb"))
        ax.text((x0 + x1) / 2, 0.76, label, ha="center", va="center", fontsize=8.5, style="italic")
    ax.text(len(STAGES) * 1.25, 0.2, CHECKS, ha="center", va="center", fontsize=8.5, color="#555")
    ax.text(len(STAGES) * 1.25, 4.45, "keras-subnets: one model, nested levels, one file, level chosen at run time",
            ha="center", va="center", fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def labels() -> list[str]:
    """Every line of text the diagram shows."""
    texts = [t for stage in STAGES for t in stage[:2]] + [band[2] for band in BANDS] + [CHECKS]
    return [line for text in texts for line in text.split("\n") if line.strip()]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        # Text, not bytes: another matplotlib draws the same boxes with other bytes.
        svg = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        missing = [line for line in labels() if escape(line) not in svg]
        if missing:
            print(f"{OUT} is stale (lacks {missing[:3]}): run python docs/diagrams/architecture.py", file=sys.stderr)
            return 1
        return 0
    svg = draw()
    OUT.write_bytes(svg)
    print(f"wrote {OUT} ({len(svg):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
