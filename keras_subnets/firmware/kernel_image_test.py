# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`kernel_image`'s Python side (no image built): the random nested matrices it encodes, decoded back
by core_binding_test's reference decoder, and the C arrays it writes, read back."""

import re

import numpy as np
import pytest

from keras_subnets.firmware import kernel_image as ki
from keras_subnets.firmware.core_binding_test import decode

DENSITY = (0.1, 0.3, 0.6)


def test_random_levels_are_nested_with_the_given_density():
    first = ki._levels_for(DENSITY, np.random.default_rng(0), (200, 100))
    for k, d in enumerate(DENSITY):
        assert abs(np.mean(first <= k) - d) < 0.01
    assert first.max() == len(DENSITY)  # the rest is in no level


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("fmt", ki.FORMATS)
def test_encode_gives_a_matrix_whose_levels_are_the_first_levels_returned(fmt, dtype):
    rng = np.random.default_rng(1)
    rows, cols, in_ch = 8, 18, 2  # conv: 3x3 taps of 2 channels
    W = (rng.integers(-127, 128, (rows, cols)) if dtype == np.int8 else rng.standard_normal((rows, cols))).astype(dtype)
    nested, first = ki.encode(fmt, W, DENSITY, rng, in_ch, 0)
    assert nested.fmt == fmt and nested.num_levels == 3
    got, got_first = decode(nested, dtype)
    np.testing.assert_array_equal(got_first, first)
    np.testing.assert_array_equal(got, np.where(first < 3, W, 0))
    if fmt == "row":  # the same count in every row: round(density * cols)
        assert [int(v) for v in nested.counts] == [2, 5, 11]
        assert all(np.count_nonzero(first[r] <= 0) == 2 for r in range(rows))
    if fmt == "structured":  # widths from the square root of the density (a MAC share of about the density)
        assert nested.out_width.tolist() == [3, 4, 6] and nested.in_width.tolist() == [1, 1, 2]


def test_odd_int8_blocks_are_written_as_nested_csr_with_paired_levels():
    rng = np.random.default_rng(2)
    W = rng.integers(-127, 128, (4, 7)).astype(np.int8)
    nested, first = ki.encode("nested_block", W, DENSITY, rng, 7, 0)
    assert nested.fmt == "nested_csr"
    assert np.array_equal(first[:, 0::2][:, :3], first[:, 1::2])  # columns 2b and 2b + 1 share a level
    np.testing.assert_array_equal(decode(nested, np.int8)[1], first)
    float_nested, _ = ki.encode("nested_block", W.astype(np.float32), DENSITY, rng, 7, 0)
    assert float_nested.fmt == "nested_block"


def test_structured_depthwise_keeps_whole_channels():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((8, 9)).astype(np.float32)  # 4 channels x multiplier 2, 3x3 taps
    nested, first = ki.encode("structured", W, DENSITY, rng, 4, 2)
    assert nested.in_width.tolist() == [1, 1, 2] and nested.out_width.tolist() == [2, 2, 4]
    np.testing.assert_array_equal(first[:, 0], [0, 0, 2, 2, 3, 3, 3, 3])


def _read_back(text):
    m = re.fullmatch(r"static const (\w+) (\w+)\[\] __attribute__\(\(aligned\(4\)\)\) = \{(.*)\};\n", text)
    assert m, text
    return m.group(1), m.group(2), m.group(3).split(",")


def test_c_arrays_hold_the_exact_values():
    values = np.array([[1.0, -2.5e-8], [3.4028235e38, np.float32(0.1)]], np.float32)
    ctype, name, body = _read_back(ki._c_arr("w", values, "float"))
    assert (ctype, name) == ("float", "w")
    np.testing.assert_array_equal(np.array([float(v.removesuffix("f")) for v in body], np.float32), values.ravel())
    ints = np.array([-128, 0, 127], np.int8)
    assert _read_back(ki._c_arr("x", ints, "int8_t"))[2] == ["-128", "0", "127"]
    assert _read_back(ki._c_arr("e", np.zeros(0, np.int32), "int32_t"))[2] == ["0"]  # C has no empty arrays
