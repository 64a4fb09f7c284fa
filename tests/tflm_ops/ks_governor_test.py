# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The run-time level governor (tflm_ops/include/ks_governor.h) against the Python statement of its
rule (keras_subnets.firmware.modelfile.select_level), on random tables, and its refusals."""

import ctypes

import numpy as np
import pytest

from keras_subnets.firmware import modelfile


class LevelTable(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("num_levels", ctypes.c_int32), ("num_fields", ctypes.c_int32)]


@pytest.fixture(scope="module")
def gov(lib):
    lib.ks_level_table_init.argtypes = [ctypes.POINTER(LevelTable), ctypes.c_char_p, ctypes.c_size_t]
    lib.ks_level_table_init.restype = ctypes.c_int32
    lib.ks_level_value.argtypes = [ctypes.POINTER(LevelTable), ctypes.c_int32, ctypes.c_int32]
    lib.ks_level_value.restype = ctypes.c_uint32
    lib.ks_select_level.argtypes = [ctypes.POINTER(LevelTable), ctypes.c_int32, ctypes.c_uint64]
    lib.ks_select_level.restype = ctypes.c_int32
    lib.ks_time_budget.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32]
    lib.ks_time_budget.restype = ctypes.c_uint64
    return lib


def init(gov, blob):
    table = LevelTable()
    keep = ctypes.create_string_buffer(blob, len(blob))
    status = gov.ks_level_table_init(ctypes.byref(table), keep, len(blob))
    return status, table, keep


def random_table(rng, levels):
    rows = []
    macs = np.sort(rng.integers(1, 10**6, levels))
    for k in range(levels):
        row = {"level": k, "macs": int(macs[k]), "bytes_read": int(rng.integers(0, 10**5)),
               "instructions_m4": int(macs[k] * 5 + rng.integers(0, 1000)) if rng.random() < 0.9 else None,
               "accuracy": float(np.round(rng.random(), 4)) if rng.random() < 0.8 else None}
        if rng.random() < 0.2 and k:
            row["accuracy"] = rows[-1]["accuracy"]  # ties
        rows.append(row)
    return {"levels": rows}


def test_select_level_matches_the_rule_on_random_tables(gov):
    rng = np.random.default_rng(0)
    cost_ids = {"macs": 1, "bytes_read": 2, "instructions_m4": 3, "instructions_m7": 4}
    for trial in range(300):
        levels = int(rng.integers(1, 17))
        table = random_table(rng, levels)
        blob = modelfile.level_costs_blob(table)
        status, t, keep = init(gov, blob)
        assert status == 0 and t.num_levels == levels
        rows = [{k: row.get(k) for k in modelfile.LEVEL_FIELDS} for row in table["levels"]]
        for cost, field_id in cost_ids.items():
            known = [r[cost] for r in rows if r.get(cost) is not None]
            for budget in [0, *(known[:3]), *(v - 1 for v in known[:3]), 2**40, int(rng.integers(0, 10**7))]:
                got = gov.ks_select_level(ctypes.byref(t), field_id, budget)
                assert got == modelfile.select_level(rows, cost, budget), (trial, cost, budget)
        for k in range(levels):
            expected = rows[k]["macs"]
            assert gov.ks_level_value(ctypes.byref(t), k, 1) == expected
        assert gov.ks_level_value(ctypes.byref(t), levels, 1) == modelfile.LEVEL_UNKNOWN
        assert gov.ks_level_value(ctypes.byref(t), 0, 9) == modelfile.LEVEL_UNKNOWN


def test_the_most_accurate_level_that_fits():
    rows = [{"accuracy": 0.80, "instructions_m4": 100}, {"accuracy": 0.86, "instructions_m4": 200},
            {"accuracy": 0.86, "instructions_m4": 300}, {"accuracy": 0.85, "instructions_m4": 400}]
    assert [modelfile.select_level(rows, "instructions_m4", b) for b in (99, 100, 250, 350, 10**6)] == [
        -1, 0, 1, 1, 1]
    rows[0]["accuracy"] = None
    assert modelfile.select_level(rows, "instructions_m4", 10**6) == 3


def test_damaged_tables_are_refused(gov):
    blob = modelfile.level_costs_blob(random_table(np.random.default_rng(1), 4))
    assert init(gov, blob)[0] == 0
    bad = [blob[:-1], blob + b"\0", b"KSLX" + blob[4:], blob[:4] + b"\2\0" + blob[6:],
           blob[:6] + b"\0\0" + blob[8:], blob[:6] + b"\x11\0" + blob[8:], blob[:8] + b"\0\0" + blob[10:],
           blob[:10] + b"\1\0" + blob[12:], b"", b"KSLT"]
    for damaged in bad:
        status, t, _ = init(gov, damaged)
        assert status == 2 and t.num_levels == 0, damaged[:12]
        assert gov.ks_select_level(ctypes.byref(t), 1, 2**40) == -1
    assert gov.ks_level_table_init(None, blob, len(blob)) == 1


def test_time_budget(gov):
    assert gov.ks_time_budget(1000, 64_000_000, 100) == 64_000
    assert gov.ks_time_budget(1000, 64_000_000, 125) == 51_200
    assert gov.ks_time_budget(4_000_000_000, 4_000_000_000, 100) == 16_000_000_000_000
    assert gov.ks_time_budget(1000, 64_000_000, 0) == 0
