# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Dense int8 kernels (ks_dense.h) on Cortex-M (QEMU): the CMSIS-NN build
(-DKS_CMSIS_NN, CMSIS-NN from $TFLM_ROOT's downloads), the portable build and
CMSIS-NN's own kernels called as TFLM calls them, all in one image, each
output checked in the image against the numpy transcription of TFLM's
reference_integer_ops: so the two builds give identical outputs, equal to
TFLite's, on the target's real SMLAD / SXTB16 / SMLABB instructions.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from keras_subnets.firmware import dense_image as di

ROOT = Path(__file__).resolve().parents[2]

_TFLM_ROOT = Path(os.environ.get("TFLM_ROOT", ROOT.parent / "shared" / "tflm" / "tflite-micro"))
CMSIS_NN = _TFLM_ROOT / "tensorflow" / "lite" / "micro" / "tools" / "make" / "downloads" / "cmsis_nn"
_missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm", "cc", "make") if shutil.which(t) is None]
pytestmark = [
    pytest.mark.skipif(bool(_missing), reason=f"needs {', '.join(_missing)}"),
    pytest.mark.skipif(
        not (CMSIS_NN / "Include" / "arm_nnfunctions.h").is_file(),
        reason=f"no CMSIS-NN at {CMSIS_NN} (set TFLM_ROOT to a tflite-micro tree with its make downloads)",
    ),
]


def _layers():
    rng = np.random.default_rng(2024)
    out = []

    def add(name, op, xs, ys, g=None, **kw):
        out.append(di.random_layer(name, op, xs, ys, g, rng, **kw))

    add("fc37x24", "fc", (1, 37), (1, 24))
    add("fc64x20_b3", "fc", (3, 64), (3, 20))
    add("fc33x9_nobias_off128", "fc", (2, 33), (2, 9), bias=False, input_offset=128)
    add("fc5x3_offm127", "fc", (1, 5), (1, 3), input_offset=-127)
    for name, xs, rows, kernel, stride, dil, pad in (
        ("pw_fast_6x6x12", (1, 6, 6, 12), 16, (1, 1), (1, 1), (1, 1), "valid"),  # arm_convolve_1x1_s8_fast
        ("pw_s2_7x7x8", (1, 7, 7, 8), 6, (1, 1), (2, 2), (1, 1), "valid"),  # arm_convolve_1x1_s8
        ("pw_odd_5x5x7_b2", (2, 5, 5, 7), 9, (1, 1), (1, 1), (1, 1), "valid"),  # C % 4 != 0: arm_convolve_s8
        ("c3x3_same_7x7x6", (1, 7, 7, 6), 10, (3, 3), (1, 1), (1, 1), "same"),
        ("c3x3_s2_9x9x5", (1, 9, 9, 5), 4, (3, 3), (2, 2), (1, 1), "valid"),
        ("c3x3_dil2_9x9x4", (1, 9, 9, 4), 5, (3, 3), (1, 1), (2, 2), "same"),
        ("c1x3_row_1x9x4", (1, 1, 9, 4), 7, (1, 3), (1, 1), (1, 1), "same"),  # arm_convolve_1_x_n_s8
        ("stem3x3_cin1_10x10", (1, 10, 10, 1), 8, (3, 3), (2, 2), (1, 1), "same"),
        ("c5x3_s21_8x9x2", (1, 8, 9, 2), 3, (5, 3), (2, 1), (1, 1), "same"),
    ):
        g, (oh, ow) = di.same_geometry(xs[1:3], kernel, stride, dil, pad)
        add(name, "conv", xs, (xs[0], oh, ow, rows), g)
    for name, xs, mult, kernel, stride, dil, pad in (
        ("dw3x3_8x8x8", (1, 8, 8, 8), 1, (3, 3), (1, 1), (1, 1), "same"),  # arm_depthwise_conv_3x3_s8
        ("dw5x5_8x8x6", (1, 8, 8, 6), 1, (5, 5), (1, 1), (1, 1), "same"),  # arm_depthwise_conv_s8_opt
        ("dw3x3_m2_s2_9x9x4", (1, 9, 9, 4), 2, (3, 3), (2, 2), (1, 1), "same"),  # arm_depthwise_conv_s8
        ("dw3x3_dil2_9x9x5", (1, 9, 9, 5), 1, (3, 3), (1, 1), (2, 2), "same"),
        ("dw3x3_b2_6x6x4", (2, 6, 6, 4), 1, (3, 3), (1, 1), (1, 1), "valid"),
        ("dw2x2_s2_7x7x3_m3", (1, 7, 7, 3), 3, (2, 2), (2, 2), (1, 1), "same"),
    ):
        g, (oh, ow) = di.same_geometry(xs[1:3], kernel, stride, dil, pad, depth_multiplier=mult)
        add(name, "depthwise_conv", xs, (xs[0], oh, ow, xs[3] * mult), g)
    return out


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    from keras_subnets.firmware import qemu as rq

    return rq.build_plugin(tmp_path_factory.mktemp("plugin") / "ks_icount.so")


@pytest.mark.parametrize("cpu", ["m4", pytest.param("m7", marks=pytest.mark.slow)])
def test_cmsis_nn_build_equals_portable_and_reference(cpu, plugin, tmp_path):
    from keras_subnets.firmware import qemu as rq

    layers = _layers()
    img = di.build_image(layers, (*di.KERNELS, "ks_dense_plan"), cpu, tmp_path, cmsis_nn_root=str(CMSIS_NN))
    res = rq.run_image(img.elf, cpu=cpu, plugin=plugin, timeout=300)
    lines = res.stdout.splitlines()
    fails = [ln for ln in lines if ln.startswith("FAIL")]
    assert fails == [], "\n".join(fails[:20])
    assert res.exit_code == 0, res.stdout[-3000:]
    assert sum(ln.startswith("PASS") for ln in lines) == len(img.calls)
    counts = res.regions["d"]
    assert len(counts) == len(img.calls)
    # The CMSIS-NN build is CMSIS-NN plus bounded argument and geometry
    # checks (measured 88 for FC, 300-340 for convolutions on M4).
    by = {(c.layer.name, c.kernel): n for c, n in zip(img.calls, counts, strict=True)}
    for layer in layers:
        assert by[(layer.name, "ks_dense")] - by[(layer.name, "cmsis_nn")] < (120 if layer.op == "fc" else 400), (
            layer.name
        )
        # A plan built CMSIS-NN's structs at Prepare: a run adds only the
        # level check and the call.
        assert by[(layer.name, "ks_dense_plan")] - by[(layer.name, "cmsis_nn")] < 40, layer.name


def test_makefile_builds_both_cores(tmp_path):
    """CMSIS_NN_ROOT switches the core to -DKS_CMSIS_NN and adds CMSIS-NN;
    without it the portable kernels are linked (no CMSIS-NN symbol)."""
    import subprocess

    for root in (None, str(CMSIS_NN)):
        build = tmp_path / ("nn" if root else "portable")
        libs = di._make_libs("m4", build, root)
        syms = subprocess.run(["arm-none-eabi-nm", str(libs[0])], capture_output=True, text=True, check=True).stdout
        calls_nn = " U arm_convolve_wrapper_s8" in syms
        assert calls_nn == bool(root)
        assert " T ks_dense_conv_s8" in syms
