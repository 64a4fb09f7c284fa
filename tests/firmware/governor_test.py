# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The run-time level governor example (tflm_ops/firmware/governor) on Cortex-M4 under QEMU: a
deadline trace, the level chosen per inference from the file's own level table, deadlines checked
against the exact instruction count of every Invoke()."""

import re

import numpy as np
from firmware_models import cached_file, require_target

from keras_subnets.firmware import build, modelfile, profile, runner

GOVERNOR = build.FIRMWARE_DIR / "governor" / "main.cc"


def trace_header(deadlines_us: list[int], clock_hz: int) -> str:
    return "".join([
        "#include <stdint.h>\n",
        f"static const uint32_t ks_trace_us[] = {{{', '.join(map(str, deadlines_us))}}};\n",
        f"static const int ks_trace_steps = {len(deadlines_us)};\n",
        f"static const uint32_t ks_clock_hz = {clock_hz}u;\n",
        "static const uint32_t ks_cycles_per_100_instructions = 100u;\n",
    ])


def test_governor_picks_the_most_accurate_level_that_meets_each_deadline(tflm_root):
    require_target("m4")
    blob = cached_file("quickstart", "row")
    zeros = np.zeros((1, 28, 28, 1), np.float32)  # the governor example's input
    measured = profile.profile(blob, "m4", inputs=zeros)
    table = modelfile.level_table(blob)
    accuracy = [0.80, 0.85, 0.87, 0.88]  # as `convert(accuracy=...)` would store them
    for row, lp, acc in zip(table["levels"], measured.levels, accuracy, strict=True):
        row["instructions_m4"], row["accuracy"] = lp.instructions, acc
    blob = modelfile.write_level_table(blob, table)
    costs = [row["instructions_m4"] for row in table["levels"]]
    assert costs == sorted(costs)
    # Deadlines (microseconds at 1 MHz = instructions) between, below and above the levels' costs.
    mids = [(a + b) // 2 for a, b in zip(costs, costs[1:], strict=False)]
    deadlines = [costs[-1] + 1000, mids[1], costs[0] - 1, mids[0], mids[2], costs[0] + 10, 2 * costs[-1]]
    fw = runner.build_firmware(blob, "m4", zeros, app_src=GOVERNOR,
                               extra_headers={"governor_trace.h": trace_header(deadlines, 1_000_000)})
    rq = runner._run_qemu_module()
    res = rq.run_image(fw.elf, cpu="m4", plugin=runner._plugin(rq), timeout=300)
    assert res.exit_code == 0, res.stdout[-3000:]
    steps = [dict(kv.split("=") for kv in line.split()[1:]) for line in res.stdout.splitlines()
             if line.startswith("gov: step=")]
    rows = modelfile.read_level_costs(blob)
    assert [r["instructions_m4"] for r in rows] == costs and [r["accuracy"] for r in rows] == accuracy
    expected = [modelfile.select_level(rows, "instructions_m4", d) for d in deadlines]
    assert expected == [3, 1, -1, 0, 2, 0, 3]
    assert [int(s["level"]) for s in steps] == [max(e, 0) for e in expected]
    assert [int(s["fits"]) for s in steps] == [int(e >= 0) for e in expected]
    assert all(s["status"] == "0" for s in steps)
    counts = res.regions["invoke"]
    for step, deadline, count in zip(steps, deadlines, counts, strict=True):
        assert (count <= deadline) == (step["fits"] == "1"), (step, deadline, count)
    assert re.search(r"gov: done steps=7 within_budget=6", res.stdout)
