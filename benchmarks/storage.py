"""Flash bytes: one nested file for K levels against the alternatives.

For the quickstart CNN and REDS's DS-CNN S (int8):
  - the K-level keras-subnets file (every mask kind that fits the model),
  - K separate standard .tflite models (TensorFlow's converter, one per level),
  - one dense standard .tflite model,
  - one keras-subnets file holding only the densest level (the 1.15x target's base),
  - TFLM's own LUT compression of the dense model, where it applies.
Weights are the nested masks of a freshly nested model (magnitudes of the
random initialisation); every level's BatchNorm statistics are then made
distinct (`keras_subnets.testing.vary_batch_norm_per_level`), as training
makes them: format version 2 stores a layer's requantization tables once
when no level changes them, so an untrained model (one BatchNorm copied into
every level) would look smaller than a trained one.

    python benchmarks/storage.py [--write]
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FLAGS = flags.FLAGS
flags.DEFINE_bool("write", False, "Write the table to docs/benchmarks.md.")
flags.DEFINE_integer("calibration_samples", 32, "Calibration samples per conversion.")

CONFIGS = [
    # (model, kinds, levels)
    ("quickstart_cnn", ["unstructured", "block", "row", "structured"], [0.9, 0.75, 0.5, 0.0]),
    ("quickstart_cnn", ["unstructured", "block", "row"], [0.9, 0.8, 0.7]),
    ("ds_cnn_s", ["structured", "row"], [0.75, 0.5, 0.25, 0.0]),
]


def lut_size(dense_file: bytes) -> tuple[int | None, str]:
    """TFLM's LUT compression of the dense model's weight tensors, where it applies."""
    import importlib

    import numpy as np
    from tflite_micro.tensorflow.lite.micro.compression import spec

    # The package re-exports a function named `compress` over its module.
    compress = importlib.import_module("tflite_micro.tensorflow.lite.micro.compression.compress")

    from keras_subnets.convert import flatbuffer as fb

    model = fb.load(dense_file)
    sg = model.subgraphs[0]
    specs, widest = [], 0
    for op in sg.operators:
        if fb.op_name(model, op) not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        tensor_index = int(op.inputs[1])
        data = fb.tensor_data(model, sg.tensors[tensor_index])
        axis = 3 if fb.op_name(model, op) == "DEPTHWISE_CONV_2D" else 0
        per_channel = max(len(np.unique(np.take(data, c, axis=axis))) for c in range(data.shape[axis]))
        bits = max(1, math.ceil(math.log2(per_channel)))
        widest = max(widest, per_channel)
        if bits < 8:
            specs.append(spec.Tensor(subgraph=0, tensor=tensor_index, compression=[
                spec.LookUpTableCompression(index_bitwidth=bits, mode=spec.PerChannel(axis=axis))]))
    if not specs:
        return None, f"applies to no weight tensor (up to {widest} distinct int8 values per channel)"
    return len(compress.compress(dense_file, specs)), f"{len(specs)} tensors"


def main(argv):
    del argv
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import keras
    from report import markdown_table, provenance, write_section

    import keras_subnets as ks
    from keras_subnets.convert import convert, plain_model, read_levels
    from keras_subnets.convert.converter import _tf_convert
    from keras_subnets.demo import load_scaled
    from keras_subnets.testing import vary_batch_norm_per_level

    (x_train, _), _ = load_scaled(train_samples=FLAGS.calibration_samples)
    samples = [s[None] for s in x_train]
    rows = []
    for model_name, kinds, levels in CONFIGS:
        keras.utils.set_random_seed(0)
        base = getattr(ks.zoo, model_name)()
        dense_bytes = len(_tf_convert(base, samples))
        lut_bytes, lut_note = lut_size(_tf_convert(base, samples))
        for kind in kinds:
            print(f"{model_name} {kind} {levels}", file=sys.stderr, flush=True)
            model = ks.nest(base, levels, kind=kind)
            vary_batch_norm_per_level(model)
            nested = convert(model, x_train, quantize="int8", progress=False)
            separate = sum(len(_tf_convert(plain_model(model, k), samples)) for k in range(len(levels)))
            top = ks.nest(base, [levels[-1]], kind=kind, widths=None)
            if kind == "structured":
                top = ks.nest(base, [0.0], kind=kind)
            vary_batch_norm_per_level(top)  # same statistics treatment (TensorFlow names tensors by it)
            densest_only = len(convert(top, x_train, quantize="int8", progress=False))
            table = read_levels(nested)["levels"]
            rows.append([
                model_name, kind, " / ".join(f"{s:.0%}" for s in levels), f"{len(nested):,}",
                f"{separate:,}", f"{dense_bytes:,}", f"{densest_only:,}",
                f"{len(nested) / densest_only:.2f}", f"{len(nested) / separate:.2f}",
                " / ".join(f"{r['bytes_read']:,}" for r in table),
                "n/a" if lut_bytes is None else f"{lut_bytes:,}",
            ])
            print(rows[-1], file=sys.stderr, flush=True)
    header = ["model", "kind", "levels (sparsity)", "K-level file", "K separate .tflite", "dense .tflite",
              "densest level only (same format)", "K-level / densest-only", "K-level / K separate",
              "weight bytes read per level", "TFLM LUT (dense)"]
    table = markdown_table(header, rows)
    print(table)
    print(f"TFLM LUT compression: {lut_note}")
    if FLAGS.write:
        body = (provenance() + "\nBytes of int8 `.tflite` files (whole files: graph, metadata and weights). "
                "\"densest level only\" is a keras-subnets file of one level, the densest, in the same format: "
                "the base of the ≤ 1.15× target. Every level has its own BatchNorm statistics, as after "
                "training (`vary_batch_norm_per_level`). TFLM LUT: the `tflite_micro` compression module on the dense "
                f"model; {lut_note}.\n\n" + table + "\n")
        write_section("storage", "Storage: one nested file against separate models", body)


if __name__ == "__main__":
    app.run(main)
