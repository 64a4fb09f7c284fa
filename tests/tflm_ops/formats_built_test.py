# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""A core built for some weight formats only (-DKS_FORMATS, ks_ops.h): the
formats it keeps run bit for bit as the full build runs them, at every level,
planned and unplanned; every entry point refuses the formats it leaves out with
KS_ERR_UNSUPPORTED instead of running a kernel that is not there.

Slow (two extra host builds of the core, ~1 min): `pytest -m slow`.
"""

from __future__ import annotations

import ctypes

import ks_plan_test as kp
import nested_masks
import numpy as np
import pytest

from keras_subnets.firmware import core_binding as kb

pytestmark = pytest.mark.slow

FORMAT_BITS = {"nested_csr": 1, "nested_block": 2, "row": 4, "structured": 8}
BUILDS = {"csr_row": ("nested_csr", "row"), "structured": ("structured",)}


@pytest.fixture(scope="module", params=list(BUILDS))
def trimmed(request, tmp_path_factory):
    kept = BUILDS[request.param]
    mask = sum(FORMAT_BITS[f] for f in kept)
    path = kb.build_library(tmp_path_factory.mktemp(f"ks_formats_{request.param}"),
                            (f"HOST_CFLAGS=-O2 -DKS_FORMATS=0x{mask:x}",))
    return kp.setup_plans(kb.load_library(path)), kept


@pytest.fixture(scope="module")
def full(lib):
    return kp.setup_plans(lib)


@pytest.mark.parametrize("case", list(kp.SPARSE_CASES))
def test_kept_formats_run_as_the_full_build(trimmed, full, case):
    tlib, kept = trimmed
    op, xs, ys, rows, cin, geom = kp.SPARSE_CASES[case]
    for fmt in kept:
        rng = np.random.default_rng(abs(hash((case, fmt, "built"))) % 2**32)
        planned = kp._sparse_plan(tlib, op, fmt, rng, xs, ys, rows, cin, geom)
        plan, nested, q, L = planned
        x = rng.integers(-128, 128, size=xs).astype(np.int8)
        for level in range(L):
            st_ref, y_ref = kp._unplanned(full, op, geom, nested, level, q, x, ys)
            st_unplanned, y_unplanned = kp._unplanned(tlib, op, geom, nested, level, q, x, ys)
            st, y = plan.run(level, x, ys)
            assert st == st_unplanned == st_ref == kb.KS_OK, (fmt, level)
            np.testing.assert_array_equal(y, y_ref, err_msg=f"{fmt} planned, level {level}")
            np.testing.assert_array_equal(y_unplanned, y_ref, err_msg=f"{fmt} unplanned, level {level}")


@pytest.mark.parametrize("case", ["fc_odd", "fc_u16", "pw", "c3_same", "stem_cin1", "dw3"])
def test_formats_left_out_are_refused(trimmed, full, case):
    tlib, kept = trimmed
    op, xs, ys, rows, cin, geom = kp.SPARSE_CASES[case]
    for fmt in FORMAT_BITS:
        cols = xs[-1] if op == "fc" else geom.kernel_h * geom.kernel_w * (cin if op == "conv" else 1)
        if fmt in kept or (fmt == "nested_block" and cols % 2):
            continue  # int8 blocks of an odd width are a format error in every build
        rng = np.random.default_rng(abs(hash((case, fmt, "refused"))) % 2**32)
        W = rng.integers(-128, 128, size=(rows, cols)).astype(np.int8)
        dm = geom.depth_multiplier if op == "depthwise_conv" else 0
        nested, _ = nested_masks.make_nested(fmt, W, 3, rng, in_channels=cin, depth_multiplier=dm)
        q = kp._quant(rng, 3, rows)
        assert kb.validate(full, nested) == kb.KS_OK, fmt
        assert kb.validate(tlib, nested) == kb.KS_ERR_UNSUPPORTED, fmt
        x = rng.integers(-128, 128, size=xs).astype(np.int8)
        st, _ = kp._unplanned(tlib, op, geom, nested, 0, q, x, ys)
        assert st == kb.KS_ERR_UNSUPPORTED, (fmt, "unplanned")
        m, qs = nested.struct(), q.struct()
        plan = kp.Plan(tlib, (nested, q, m, qs, q._keep))
        if op == "fc":
            st = tlib.ks_plan_fully_connected_s8(plan.ptr, ctypes.byref(m), ctypes.byref(qs), xs[0])
        else:
            st = getattr(tlib, f"ks_plan_{op}_s8")(plan.ptr, ctypes.byref(geom.struct()), ctypes.byref(m),
                                                  ctypes.byref(qs), kb._dims(xs), kb._dims(ys))
        assert st == kb.KS_ERR_UNSUPPORTED, (fmt, "plan")
