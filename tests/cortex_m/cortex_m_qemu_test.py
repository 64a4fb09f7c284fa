# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Build the Cortex-M images and run them in QEMU (mps2-an386 = M4, mps2-an500 = M7).

Checks exit status, PASS lines, exact instruction counts of known regions,
run-to-run repeatability of the counts, and the runner's error paths.
Skipped only when arm-none-eabi-gcc or qemu-system-arm is not installed.
"""

from __future__ import annotations

import pathlib
import re
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HARNESS = ROOT / "tflm_ops" / "cortex_m"

_missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(
    bool(_missing),
    reason=f"Cortex-M QEMU tests need {', '.join(_missing)} "
    "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm make)",
)

# Baseline of docs/baselines.md: plain C reference FC 256 -> 256, gcc -O2.
BASELINE_REF_FC_256 = {"m4": 474_863, "m7": 477_138}
CPUS = ["m4", "m7"]


from keras_subnets.firmware import qemu as rq  # noqa: E402


@pytest.fixture(scope="module", params=CPUS)
def built(request, tmp_path_factory):
    cpu = request.param
    # keep_going: a broken tflm_ops/core fails only the core tests.
    out = rq.build_images(cpu, tmp_path_factory.mktemp(f"cortex_m_{cpu}"), jobs=2, keep_going=True)
    return cpu, out


def _run(built, image, **kw):
    cpu, out = built
    if image not in out:
        pytest.fail(f"{image} did not build for {cpu}:\n{out.log[-6000:]}")
    return rq.run_image(out[image], cpu=cpu, plugin=out.plugin, timeout=60, **kw)


def _pass_fail(stdout):
    passes = [ln for ln in stdout.splitlines() if ln.startswith("PASS ")]
    fails = [ln for ln in stdout.splitlines() if ln.startswith("FAIL ")]
    return passes, fails


def test_selftest_exact_counts(built):
    res = _run(built, "selftest")
    assert res.exit_code == 0, res.stdout + res.stderr
    passes, fails = _pass_fail(res.stdout)
    assert fails == []
    assert {"PASS fpu", "PASS bss", "PASS markers"} <= set(passes)
    # Regions of known length: the marker overhead is subtracted exactly.
    assert res.regions == {"empty": [0], "nop10": [10], "loop100": [301]}


def test_reference_fc_passes_and_counts_repeat(built):
    cpu, _ = built
    first = _run(built, "fc_ref")
    assert first.exit_code == 0, first.stdout + first.stderr
    passes, fails = _pass_fail(first.stdout)
    assert fails == []
    assert len(passes) == 5
    counts = first.regions["ref_fc"]
    assert len(counts) == 5
    # Same ballpark as the baseline's plain C reference FC 256 -> 256.
    ratio = counts[0] / BASELINE_REF_FC_256[cpu]
    assert 0.8 < ratio < 1.25, (counts[0], ratio)

    second = _run(built, "fc_ref")
    assert second.regions == first.regions
    assert second.total_instructions == first.total_instructions
    assert second.stdout == first.stdout


def test_core_fc_row_kernel(built):
    res = _run(built, "core_fc_row")
    assert res.exit_code == 0, res.stdout + res.stderr
    passes, fails = _pass_fail(res.stdout)
    assert fails == []
    # 3 cases: 3 + 2 + 2 levels, plus one rejected bad level per case.
    assert len([p for p in passes if re.search(r" level \d+ \(", p)]) == 7
    assert len([p for p in passes if p.endswith("bad level rejected")]) == 3
    assert len(res.regions["core_fc_row"]) == 7
    assert _run(built, "core_fc_row").regions == res.regions


def test_exit_status_and_fault(built):
    res = _run(built, "exit42", count=False)
    assert res.exit_code == 42
    assert "exiting with 42" in res.stdout
    res = _run(built, "fault")
    assert res.exit_code == 99  # KS_EXIT_FAULT
    assert "ks: fault" in res.stdout
    assert "not reached" not in res.stdout


def test_timeout_is_reported(built):
    cpu, out = built
    if cpu != "m4":
        pytest.skip("one CPU is enough for the timeout path")
    with pytest.raises(rq.QemuTimeoutError) as exc:
        rq.run_image(out["hang"], cpu=cpu, plugin=out.plugin, timeout=1.5)
    assert "hanging" in exc.value.stdout


def test_missing_qemu_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KS_QEMU", "no-such-qemu-system-arm")
    with pytest.raises(rq.ToolMissingError, match="apt-get install qemu-system-arm"):
        rq.run_image(tmp_path / "x.elf", cpu="m4")


def test_pair_regions_errors():
    assert rq.pair_regions([("B", "a", 10), ("B", "b", 20), ("E", "b", 30), ("E", "a", 100)]) == {
        "b": [10 - rq.MARKER_OVERHEAD],
        "a": [90 - rq.MARKER_OVERHEAD],
    }
    with pytest.raises(RuntimeError, match="without a matching"):
        rq.pair_regions([("E", "a", 1)])
    with pytest.raises(RuntimeError, match="without KS_BENCH_END"):
        rq.pair_regions([("B", "a", 1)])
