# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Every core kernel on Cortex-M4 (mps2-an386) and Cortex-M7 (mps2-an500).

One image per CPU calls FC, Conv2D (1x1 pointwise path, 1x1 strided, 3x3
padded / strided / dilated) and DepthwiseConv2D (multiplier 1 and 2), int8
and float32, in all four formats, at every level, plus out-of-range levels
that must return KS_ERR_LEVEL.  Expected outputs come from the same core
built for the host with gcc (int8 bit-exact, float32 within 1e-5 relative),
and every int8 host output is first checked against the numpy transcription
of TFLM's reference kernels on the level's masked weights
(`ks_kernel_image._numpy_oracle`), so a bug shared by both builds fails too.
The Cortex-M build runs the real SMLAD / SXTB16 / SMMLAR instructions.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm", "gcc", "make") if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(_missing), reason=f"needs {', '.join(_missing)}")

if not _missing:
    from keras_subnets.firmware import core_binding as kb
    from keras_subnets.firmware import kernel_image as ki


def _cases():
    G = kb.ConvGeometry if not _missing else None
    layers = [
        # name, op, x shape, y shape, rows, cols, in_channels, geometry
        ("fc37x24b2", "fc", (2, 37), (2, 24), 24, 37, 37, None),
        ("fc64x20", "fc", (1, 64), (1, 20), 20, 64, 64, None),
        ("pw6x6x12_16", "conv", (1, 6, 6, 12), (1, 6, 6, 16), 16, 12, 12, G(1, 1)),
        ("pw5x5x7_9b2", "conv", (2, 5, 5, 7), (2, 5, 5, 9), 9, 7, 7, G(1, 1)),
        ("pw_s2_7x7x8_6", "conv", (1, 7, 7, 8), (1, 4, 4, 6), 6, 8, 8, G(1, 1, 2, 2)),
        ("c3x3_7x7x6_10", "conv", (1, 7, 7, 6), (1, 7, 7, 10), 10, 54, 6, G(3, 3, pad_h=1, pad_w=1)),
        ("c3x3_s2d_9x9x5_4", "conv", (1, 9, 9, 5), (1, 4, 4, 4), 4, 45, 5, G(3, 3, 2, 2, 1, 1, 1, 1)),
        ("c3x3_dil2_9x9x4_5", "conv", (1, 9, 9, 4), (1, 5, 5, 5), 5, 36, 4, G(3, 3, 1, 1, 2, 2, 0, 0)),
        (
            "dw3x3_8x8x8",
            "depthwise_conv",
            (1, 8, 8, 8),
            (1, 8, 8, 8),
            8,
            9,
            8,
            G(3, 3, pad_h=1, pad_w=1, depth_multiplier=1),
        ),
        (
            "dw3x3_m2_s2_9x9x4",
            "depthwise_conv",
            (1, 9, 9, 4),
            (1, 5, 5, 8),
            8,
            9,
            4,
            G(3, 3, 2, 2, pad_h=1, pad_w=1, depth_multiplier=2),
        ),
    ]
    cases = []
    seed = 0
    for dtype in ("int8", "float32"):
        for fmt in ki.FORMATS:
            for name, op, xs, ys, rows, cols, cin, g in layers:
                seed += 1
                cases.append(
                    ki.Case(
                        name,
                        op,
                        dtype,
                        fmt,
                        xs,
                        ys,
                        rows,
                        cols,
                        cin,
                        geometry=g,
                        density=(0.15, 0.4, 0.7, 1.0),
                        bad_levels=(4, -1) if seed % 3 == 0 else (4,),
                        per_level=seed % 5 != 0,
                        negative_multipliers=seed % 2 == 0,
                        act=(-128, 127) if seed % 4 else (-20, 90),
                        seed=seed,
                    )
                )
                if dtype == "int8":
                    # The same matrix through a plan (ks_plan.h): checked
                    # against the unplanned kernel's host output.
                    cases.append(dataclasses.replace(cases[-1], planned=True))
    return cases


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    return kb.load_library(kb.build_library(tmp_path_factory.mktemp("ks_host")))


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    return ki.rq.build_plugin(tmp_path_factory.mktemp("plugin") / "ks_icount.so")


@pytest.mark.parametrize("cpu", ["m4", "m7"])
def test_every_kernel_format_dtype_level(cpu, host_lib, plugin, tmp_path):
    cases = _cases()
    img = ki.build_image(cases, cpu, tmp_path, host_lib)
    res = ki.run(img, plugin, timeout=120)
    lines = res.stdout.splitlines()
    fails = [ln for ln in lines if ln.startswith("FAIL")]
    passes = [ln for ln in lines if ln.startswith("PASS")]
    assert fails == [], "\n".join(fails[:20])
    assert res.exit_code == 0, res.stdout[-3000:]
    assert len(passes) == len(img.calls)
    counts = res.regions["k"]
    assert len(counts) == len(img.calls)
    # Every kernel, both dtypes, every format were exercised, incl. bad levels.
    seen = {(c.case.op, c.case.dtype, c.case.fmt, c.case.planned) for c in img.calls}
    assert len(seen) == 3 * 3 * 4
    bad = [c for c in img.calls if c.status == kb.KS_ERR_LEVEL]
    assert len(bad) >= len(cases)
    # A rejected level is checked before any array is touched: it costs less than a quarter of the
    # cheapest call that does any work (the smallest level of the smallest layer).
    rejected = max(n for n, c in zip(counts, img.calls, strict=True) if c.status == kb.KS_ERR_LEVEL)
    cheapest = min(n for n, c in zip(counts, img.calls, strict=True) if c.status == kb.KS_OK)
    assert rejected < cheapest / 4, (rejected, cheapest)
