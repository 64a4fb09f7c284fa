# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets.lcs import coordinates


def test_alpha_sampling_follows_the_paper():
    seed = keras.random.SeedGenerator(3)
    draws = keras.ops.convert_to_numpy(coordinates.sample_alpha(seed, 0.025, shape=(20000,)))
    assert draws.min() >= 0.025 and draws.max() <= 1.0
    low, high = np.mean(draws == np.float32(0.025)), np.mean(draws == 1.0)
    assert abs(low + high - 0.5) < 0.02  # endpoints with p = 0.5 ...
    assert abs(low - 0.25) < 0.02 and abs(high - 0.25) < 0.02  # ... equally often
    inner = draws[(draws > 0.025) & (draws < 1.0)]
    hist, _ = np.histogram(inner, bins=5, range=(0.025, 1.0))
    assert hist.min() > 0.8 * hist.mean()  # the rest uniform


def test_geometric_draws_are_uniform_in_log_alpha():
    seed = keras.random.SeedGenerator(3)
    draws = keras.ops.convert_to_numpy(coordinates.sample_alpha(seed, 0.025, shape=(20000,), spacing="geometric"))
    assert draws.min() >= np.float32(0.025) * (1 - 1e-6) and draws.max() <= 1.0
    assert abs(np.mean(np.isclose(draws, 0.025, rtol=1e-6)) - 0.25) < 0.02
    inner = draws[~np.isclose(draws, 0.025, rtol=1e-6) & (draws < 1.0)]
    hist, _ = np.histogram(np.log(inner), bins=5, range=(np.log(0.025), 0.0))
    assert hist.min() > 0.8 * hist.mean()  # every octave of α as often
    # Linear spacing would put only (sqrt(0.025) - 0.025) / 0.975 = 14 % below the geometric midpoint.
    assert abs(np.mean(inner < np.sqrt(0.025)) - 0.5) < 0.03
    u = np.array([0.0, 0.5, 1.0], np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(coordinates.spread(u, 0.04, "geometric")),
                               [0.04, 0.2, 1.0], rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(coordinates.spread(u, 0.04, "linear")),
                               [0.04, 0.52, 1.0], rtol=1e-5)


def test_warmup_schedule_values():
    values = [float(coordinates.warmup_keep(0.2, step, 100)) for step in (0, 25, 50, 100, 150)]
    np.testing.assert_allclose(values, [1.0, 0.8, 0.6, 0.2, 0.2], rtol=1e-6)
    assert float(coordinates.warmup_keep(0.2, 0, 0)) == pytest.approx(0.2)  # no warm-up
    assert float(coordinates.warmup_keep(1.0, 10, 100)) == pytest.approx(1.0)
    cubic = [float(coordinates.warmup_keep(0.2, step, 100, power=3)) for step in (0, 25, 50, 100, 150)]
    np.testing.assert_allclose(cubic, [1.0, 0.2 + 0.8 * 0.75**3, 0.2 + 0.8 * 0.5**3, 0.2, 0.2], rtol=1e-6)


def test_width_and_bits_maps():
    assert float(coordinates.width_fraction(0.0)) == 0.25 and float(coordinates.width_fraction(1.0)) == 1.0
    assert [coordinates.bit_width(a) for a in (0.0, 0.16, 0.17, 0.5, 0.99, 1.0)] == [3, 3, 4, 6, 8, 8]
    tensor_bits = [float(coordinates.bit_width(keras.ops.convert_to_tensor(a))) for a in (0.0, 0.5, 1.0)]
    assert tensor_bits == [3.0, 6.0, 8.0]
    assert coordinates.bit_width(1.0, 4, 6) == 6 and coordinates.bit_width(0.0, 4, 6) == 4


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "x"])
def test_alpha_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match="alpha"):
        coordinates.validate_alpha(bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"), coordinates.alpha_override(bad):
        pass


@pytest.mark.parametrize("lo, hi", [(2, 8), (3, 9), (6, 4)])
def test_bit_widths_outside_3_to_8_are_refused(lo, hi):
    with pytest.raises(ValueError, match="min_bits"):
        coordinates.validate_bits(lo, hi)
