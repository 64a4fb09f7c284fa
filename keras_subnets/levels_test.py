# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import pytest

from keras_subnets import levels


def test_validate_sparsities_accepts_sparsest_first():
    assert levels.validate_sparsities([0.9, 0.5, 0]) == [0.9, 0.5, 0.0]


@pytest.mark.parametrize(
    "bad, message",
    [([], "at least one level"), ([0.5, 0.9], "sparsest first"), ([1.0], r"\[0, 1\)"),
     ([-0.1], r"\[0, 1\)"), ("0.5", "list"), ([0.0] * 17, "at most 16")],
)
def test_validate_sparsities_rejects(bad, message):
    with pytest.raises(ValueError, match=message):
        levels.validate_sparsities(bad, where="test")


def test_default_loss_weights_are_reds_weights():
    weights = levels.default_loss_weights([0.75, 0.0])
    assert weights[1] / weights[0] == pytest.approx(1 / 0.5)
    assert sum(weights) == pytest.approx(1.0)


def test_override_nests_and_restores():
    assert levels.current_override() is None
    with levels.level_override(2):
        with levels.level_override(0):
            assert levels.current_override() == 0
        assert levels.current_override() == 2
    assert levels.current_override() is None
