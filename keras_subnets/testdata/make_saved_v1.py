# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors
"""Writes the .keras files that keras_subnets/saving_compat_test.py loads.

Run once at commit ae5e5a1 (before the nested and LCS layers shared one base):
``python -m keras_subnets.testdata.make_saved_v1 keras_subnets/testdata``. The
files must keep loading, with the outputs stored beside them, in every later
version; do not regenerate them unless the saved format changes on purpose.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_subnets as ks  # noqa: E402
from keras_subnets import lcs  # noqa: E402

out = sys.argv[1]
keras.utils.set_random_seed(3)
def base():
    x = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.DepthwiseConv2D(3, padding="same")(h)
    h = keras.layers.Conv1D(6, 2)(keras.layers.Reshape((64, 8))(h))
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    y = keras.layers.Dense(4)(h)
    return keras.Model(x, y)
x = np.random.default_rng(0).standard_normal((5, 8, 8, 3)).astype("float32")
calib = np.random.default_rng(1).standard_normal((32, 8, 8, 3)).astype("float32")
m = ks.nest(base(), levels=[0.7, 0.3, 0.0])
ks.recalibrate_batch_norm(m, calib, batch_size=8)
m.save(f"{out}/nested_v1.keras")
outs = {}
for k in range(3):
    ks.set_level(m, k)
    outs[f"level_{k}"] = np.asarray(m(x))
s = lcs.subspace(base(), kind="unstructured", norm="batch_per_level", alpha_bins=3)
lcs.recalibrate_batch_norm(s, calib, batch_size=8)
s.save(f"{out}/subspace_v1.keras")
for a in (0.2, 0.5, 1.0):
    lcs.set_alpha(s, a)
    outs[f"alpha_{a}"] = np.asarray(s(x))
np.savez(f"{out}/saved_v1_outputs.npz", x=x, calibration=calib, **outs)
