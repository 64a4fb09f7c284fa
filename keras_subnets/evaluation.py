# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Per-level evaluation: accuracy against cost for every nested level."""

from __future__ import annotations

import sys
from typing import TextIO

import keras
import numpy as np

from keras_subnets.layers import SubnetLayerMixin
from keras_subnets.model_layers import model_layers
from keras_subnets.selection import get_level, num_levels, set_level


def _weight_layers(model: keras.Model) -> list:
    return model_layers(model, lambda la: bool(la.weights))


def level_costs(model: keras.Model, level: int) -> dict:
    """Non-zero kernel weights, MACs per sample and sparsity of ``level``.

    Dense layers that are not sub-network layers count fully in every level,
    as do recurrent layers kept dense (their kernels once per time step).
    """
    nonzeros = total = macs = 0
    for layer in _weight_layers(model):
        if isinstance(layer, SubnetLayerMixin):
            nonzeros += layer.level_nonzeros(level)
            total += int(np.prod(layer.kernel.shape)) + (layer._units if layer.use_bias else 0)
            macs += layer.level_macs(level)
        elif getattr(layer, "kernel", None) is not None and hasattr(layer, "output"):
            size = int(np.prod(layer.kernel.shape))
            bias = int(np.prod(layer.bias.shape)) if getattr(layer, "bias", None) is not None else 0
            nonzeros += size + bias
            total += size + bias
            out_shape = layer.output.shape
            macs += size * int(np.prod(out_shape[1:-1] or [1]))
        elif isinstance(layer, keras.layers.RNN) and hasattr(layer, "input"):
            # A recurrent layer kept dense: every weight in every level, its kernels used once per step.
            size = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
            nonzeros += size
            total += size
            cell = layer.cell
            per_step = sum(int(np.prod(k.shape)) for k in (getattr(cell, "kernel", None),
                                                            getattr(cell, "recurrent_kernel", None)) if k is not None)
            macs += per_step * int(layer.input.shape[1] or 0)
    return {
        "nonzeros": nonzeros,
        "sparsity": 1.0 - nonzeros / total if total else 0.0,
        "macs": macs,
    }


def format_table(rows: list[dict]) -> str:
    """Renders `evaluate_levels` rows as a fixed-width text table."""
    if not rows:
        return ""
    metric_keys = [k for k in rows[0] if k not in ("level", "target_sparsity", "sparsity",
                                                  "nonzeros", "macs")]
    header = ["level", "target", "sparsity", "non-zeros", "MACs"] + metric_keys
    lines = [header]
    for r in rows:
        lines.append([
            str(r["level"]), f"{r['target_sparsity']:.2f}", f"{r['sparsity']:.3f}",
            f"{r['nonzeros']:,}", f"{r['macs']:,}",
        ] + [f"{r[k]:.4f}" for k in metric_keys])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=False)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def evaluate_levels(
    model: keras.Model,
    x,
    y=None,
    *,
    batch_size: int | None = 256,
    verbose: int = 0,
    print_table: bool = True,
    file: TextIO | None = None,
) -> list[dict]:
    """Evaluates every level of a compiled sub-network model.

    Args:
        model: a compiled model with sub-network layers.
        x, y: evaluation data, as for `keras.Model.evaluate`.
        batch_size: evaluation batch size.
        verbose: verbosity of each `evaluate` call.
        print_table: print the table (to ``file``, default stdout).

    Returns:
        One dict per level: ``level``, ``target_sparsity``, ``sparsity``
        (measured over kernel weights and biases), ``nonzeros``, ``macs``
        and every compiled metric (``loss``, ``accuracy``, ...).
    """
    if not model.compiled:
        raise ValueError(f"model '{model.name}' must be compiled before evaluate_levels()")
    targets = getattr(model, "levels", None)
    previous = get_level(model)
    rows = []
    try:
        for k in range(num_levels(model)):
            set_level(model, k)
            metrics = model.evaluate(x, y, batch_size=batch_size, verbose=verbose, return_dict=True)
            row = {"level": k, "target_sparsity": float(targets[k]) if targets else float("nan")}
            row.update(level_costs(model, k))
            row.update({name: float(value) for name, value in metrics.items()
                        if not name.startswith("level_")})
            rows.append(row)
    finally:
        set_level(model, previous)
    if print_table:
        print(format_table(rows), file=file or sys.stdout)
    return rows
