# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Test vectors for apps/fc_ref.c: int8 fully connected, per-channel requant.

Case 0 has the shape and parameters of the baseline benchmark
(docs/baselines.md): 1x256 -> 256, input offset 128, output offset 3,
activation range [-128, 127], weight (filter) offset 0, per-channel multipliers in
[2^30, 2^31), shifts -9..-13.  The other cases exercise clamping, positive
shifts, odd sizes, batches and missing bias.
"""

from __future__ import annotations

import argparse
import random

from ks_vectors import c_array, rand_ints, ref_fully_connected_s8, write_header

CASES = [
    # name, batches, in_dim, out_dim, in_off, w_off, out_off, act_min, act_max, shifts, bias?
    ("fc_256x256", 1, 256, 256, 128, 0, 3, -128, 127, (-13, -9), True),
    ("fc_1024x128", 1, 1024, 128, 128, 0, 3, -128, 127, (-14, -10), True),
    ("fc_odd_7x5_b3", 3, 7, 5, -3, 2, -7, -100, 90, (-6, 1), True),
    ("fc_nobias_33x9", 1, 33, 9, 0, 0, 0, -128, 127, (-8, -5), False),
    ("fc_relu6_64x16", 2, 64, 16, 128, -1, -128, -128, -80, (-10, -7), True),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20260)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    parts = [
        "typedef struct {\n"
        "    const char *name;\n"
        "    int batches, in_dim, out_dim;\n"
        "    int32_t input_offset, filter_offset, output_offset, act_min, act_max;\n"
        "    const int8_t *input, *weights;\n"
        "    const int32_t *bias, *multiplier, *shift;\n"
        "    const int8_t *expected;\n"
        "} fc_case;\n"
    ]
    table = []
    for i, (name, nb, din, dout, ioff, woff, ooff, amin, amax, (smin, smax), has_bias) in enumerate(CASES):
        inp = rand_ints(rng, nb * din, -128, 127)
        w = rand_ints(rng, dout * din, -127, 127)
        bias = rand_ints(rng, dout, -(2**14), 2**14) if has_bias else None
        mult = rand_ints(rng, dout, 2**30, 2**31 - 1)
        shift = rand_ints(rng, dout, smin, smax)
        exp = ref_fully_connected_s8(
            inp,
            w,
            bias,
            mult,
            shift,
            batches=nb,
            in_dim=din,
            out_dim=dout,
            input_offset=ioff,
            filter_offset=woff,
            output_offset=ooff,
            act_min=amin,
            act_max=amax,
        )
        p = f"c{i}_"
        parts += [
            c_array(p + "input", "int8_t", inp),
            c_array(p + "weights", "int8_t", w),
            c_array(p + "bias", "int32_t", bias or []),
            c_array(p + "mult", "int32_t", mult),
            c_array(p + "shift", "int32_t", shift),
            c_array(p + "expected", "int8_t", exp),
        ]
        table.append(
            f'    {{"{name}", {nb}, {din}, {dout}, {ioff}, {woff}, {ooff}, {amin}, {amax}, '
            f"{p}input, {p}weights, {p + 'bias' if has_bias else '0'}, {p}mult, {p}shift, "
            f"{p}expected}},"
        )
    parts.append("static const fc_case fc_cases[] = {\n" + "\n".join(table) + "\n};\n")
    parts.append("#define FC_NUM_CASES ((int)(sizeof fc_cases / sizeof fc_cases[0]))\n")
    write_header(args.out, "FC_REF_VECTORS_H", parts, source="vectors/fc_ref.py")


if __name__ == "__main__":
    main()
