# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""End-to-end demo: train a nested model on real Fashion-MNIST, print every level."""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import numpy as np

from keras_subnets import zoo
from keras_subnets.callbacks import MaskScheduler, RecalibrateBatchNorm
from keras_subnets.datasets import fashion_mnist
from keras_subnets.evaluation import evaluate_levels
from keras_subnets.nest import nest, tfmot_prunable_layers
from keras_subnets.schedules import PolynomialDecay
from keras_subnets.selection import level


def load_scaled(train_samples: int | None = None, test_samples: int | None = None, path=None):
    """Fashion-MNIST as float32 NHWC in [0, 1], optionally shortened."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path)
    x_train = x_train[:train_samples, ..., None].astype("float32") / 255.0
    x_test = x_test[:test_samples, ..., None].astype("float32") / 255.0
    return (x_train, y_train[:train_samples]), (x_test, y_test[:test_samples])


def run_demo(
    levels: Sequence[float] = (0.9, 0.75, 0.5, 0.0),
    kind: str = "unstructured",
    pretrain_epochs: int = 2,
    epochs: int = 3,
    batch_size: int = 128,
    train_samples: int | None = None,
    test_samples: int | None = None,
    output: str | None = None,
    verbose: int | str = "auto",
    seed: int = 0,
    convert_samples: int = 1000,
    inner_gradient: float = 0.1,
    dense_depthwise: bool = True,
) -> list[dict]:
    """Pretrains the quickstart CNN, nests it, trains all levels jointly, evaluates,
    converts to one int8 flatbuffer and runs every level of it in TFLite Micro.

    Args:
        convert_samples: test images run through the int8 file per level (0 skips
            conversion).
        inner_gradient: `SubnetModel`'s gradient share for smaller levels'
            weights (0.1 lifts the sparse levels; see docs/benchmarks.md).
        dense_depthwise: keep depthwise layers dense in every level (as tfmot
            does) when ``kind`` is not ``structured``: a 3x3 depthwise kernel
            has 9 weights per channel, and pruning them costs accuracy and saves
            almost nothing.

    Returns:
        The rows of `evaluate_levels` on the test set, with ``int8_accuracy``
        added when the file was converted and run.
    """
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_scaled(train_samples, test_samples)
    print(f"Fashion-MNIST: {len(x_train)} training and {len(x_test)} test images")
    base = zoo.quickstart_cnn()
    base.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.time()
    if pretrain_epochs:
        print(f"Pretraining the dense model for {pretrain_epochs} epoch(s)")
        base.fit(x_train, y_train, batch_size=batch_size, epochs=pretrain_epochs, verbose=verbose)
    layers = None
    if dense_depthwise and kind != "structured":
        layers = tfmot_prunable_layers(base)
    model = nest(base, levels, kind=kind, layers=layers, inner_gradient=inner_gradient)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    steps_per_epoch = int(np.ceil(len(x_train) / batch_size))
    schedule = PolynomialDecay(0.0, max(levels), begin_step=0, end_step=max(1, steps_per_epoch // 2),
                               frequency=max(1, steps_per_epoch // 20))
    print(f"Training {len(levels)} nested '{kind}' levels jointly for {epochs} epoch(s)")
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
              callbacks=[MaskScheduler(schedule), RecalibrateBatchNorm(x_train)])
    print(f"\nTest set, every level of one model ({time.time() - start:.0f} s of training):")
    rows = evaluate_levels(model, x_test, y_test)
    if output:
        model.save(output)
        print(f"saved {output}")
    if convert_samples:
        from keras_subnets.convert import convert
        from keras_subnets.tflm import run_levels

        blob = convert(model, x_train[:200], quantize="int8", accuracy=[r["accuracy"] for r in rows])
        n = min(convert_samples, len(x_test))
        print(f"\nOne int8 flatbuffer, {len(blob):,} bytes, every level run by the KS_* custom kernels in "
              f"TFLite Micro ({n} test images; the level is one int32 written to the 'subnet' input):")
        print("level  int8 accuracy  float accuracy (same images)")
        outputs = run_levels(blob, x_test[:n])
        for row in rows:
            k = row["level"]
            row["int8_accuracy"] = float(np.mean(np.argmax(outputs[k], axis=1) == y_test[:n]))
            with level(model, k):
                same = float(np.mean(np.argmax(model.predict(x_test[:n], verbose=0), axis=1) == y_test[:n]))
            print(f"{k:5d}  {row['int8_accuracy']:13.4f}  {same:14.4f}")
    return rows
