# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Test vectors for apps/core_fc_row.c: ks_fully_connected_s8 on KS_FORMAT_ROW.

A ROW matrix stores, for every output row, n_max = counts[L-1] column
entries; level k uses the first counts[k] of them, and the entries that level
k adds are sorted by column.  Format v4: an int8 matrix's values are the
layer's dense weights D (rows x cols, zeros outside the stored entries); an
entry reads D at its column.  The expected output of level k is the dense
TFLM-style FC with every weight outside the level set to zero.
"""

from __future__ import annotations

import argparse
import random

from ks_vectors import c_array, rand_ints, ref_fully_connected_s8, write_header

CASES = [
    # name, rows, cols, counts, per_level, batches, in_off, out_off, act_min, act_max
    ("row_256x64_L3", 64, 256, (32, 96, 256), 0, 1, 128, 3, -128, 127),
    ("row_300x16_L2_u16_b2", 16, 300, (40, 150), 1, 2, -5, -2, -120, 110),
    ("row_9x5_L2_relu", 5, 9, (3, 7), 1, 1, 128, -128, -128, 127),
]


def make_case(rng: random.Random, i: int, case) -> tuple[list[str], str]:
    name, rows, cols, counts, per_level, nb, ioff, ooff, amin, amax = case
    n_levels, n_max = len(counts), counts[-1]
    values, indices = [], []
    for _ in range(rows):
        cols_order = rng.sample(range(cols), n_max)
        begin = 0
        for c in counts:  # each level's new entries ascend by column
            indices += sorted(cols_order[begin:c])
            begin = c
        values += rand_ints(rng, n_max, -127, 127)
    n_tab = rows * (n_levels if per_level else 1)
    bias = rand_ints(rng, n_tab, -(2**13), 2**13)
    mult = rand_ints(rng, n_tab, 2**30, 2**31 - 1)
    shift = rand_ints(rng, n_tab, -12, -7)
    inp = rand_ints(rng, nb * cols, -128, 127)
    expected = []
    for k in range(n_levels):
        dense = [0] * (rows * cols)
        for o in range(rows):
            for j in range(counts[k]):
                dense[o * cols + indices[o * n_max + j]] = values[o * n_max + j]
        t = k * rows if per_level else 0
        expected += ref_fully_connected_s8(
            inp,
            dense,
            bias[t : t + rows],
            mult[t : t + rows],
            shift[t : t + rows],
            batches=nb,
            in_dim=cols,
            out_dim=rows,
            input_offset=ioff,
            output_offset=ooff,
            act_min=amin,
            act_max=amax,
        )
    top = [0] * (rows * cols)  # D: the stored entries at their columns
    for o in range(rows):
        for j in range(n_max):
            top[o * cols + indices[o * n_max + j]] = values[o * n_max + j]
    p = f"c{i}_"
    itype = "uint8_t" if cols <= 256 else "uint16_t"
    parts = [
        c_array(p + "values", "int8_t", top),
        c_array(p + "indices", itype, indices),
        c_array(p + "counts", "int32_t", counts),
        c_array(p + "bias", "int32_t", bias),
        c_array(p + "mult", "int32_t", mult),
        c_array(p + "shift", "int8_t", shift),  # format v2: int8 shifts
        c_array(p + "input", "int8_t", inp),
        c_array(p + "expected", "int8_t", expected),
    ]
    row = (
        f'    {{"{name}", {rows}, {cols}, {n_levels}, {per_level}, {nb}, {ioff}, {ooff}, {amin}, '
        f"{amax}, {p}values, {rows * cols}, {p}indices, {rows * n_max}, {p}counts, {p}bias, {p}mult, {p}shift, "
        f"{p}input, {p}expected}},"
    )
    return parts, row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    parts = [
        "typedef struct {\n"
        "    const char *name;\n"
        "    int32_t rows, cols, num_levels, per_level, batches;\n"
        "    int32_t input_offset, output_offset, act_min, act_max;\n"
        "    const int8_t *values;\n"
        "    int32_t num_values;\n"
        "    const void *indices;\n"
        "    int32_t num_indices;\n"
        "    const int32_t *counts, *bias, *multiplier;\n"
        "    const int8_t *shift;\n"
        "    const int8_t *input;\n"
        "    const int8_t *expected; /* [num_levels][batches][rows] */\n"
        "} core_fc_row_case;\n"
    ]
    rows = []
    for i, case in enumerate(CASES):
        p, r = make_case(rng, i, case)
        parts += p
        rows.append(r)
    parts.append("static const core_fc_row_case core_fc_row_cases[] = {\n" + "\n".join(rows) + "\n};\n")
    parts.append(
        "#define CORE_FC_ROW_NUM_CASES ((int)(sizeof core_fc_row_cases / sizeof core_fc_row_cases[0]))\n"
    )
    write_header(args.out, "CORE_FC_ROW_VECTORS_H", parts, source="vectors/core_fc_row.py")


if __name__ == "__main__":
    main()
