# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import json
import os
import subprocess
import sys
import textwrap

import pytest

from keras_subnets import schedules


def test_polynomial_decay_values_and_update_steps():
    s = schedules.PolynomialDecay(0.2, 0.8, begin_step=10, end_step=110, power=3, frequency=20)
    assert s(0) == (False, pytest.approx(0.2))
    assert s(10) == (True, pytest.approx(0.2))
    assert s(60)[1] == pytest.approx(0.8 + (0.2 - 0.8) * 0.5**3)
    assert s(30)[0] and not s(31)[0]
    assert s(110) == (True, pytest.approx(0.8))
    assert s(130) == (False, pytest.approx(0.8))


def test_bad_schedules_are_rejected():
    with pytest.raises(ValueError, match="final_sparsity must lie in"):
        schedules.PolynomialDecay(0.0, 1.0, 0, 10)
    with pytest.raises(ValueError, match="initial_sparsity must lie in .* got 1.2"):
        schedules.PolynomialDecay(1.2, 0.5, 0, 10)
    with pytest.raises(ValueError):
        schedules.PolynomialDecay(0.0, 0.5, 10, 10)
    with pytest.raises(ValueError):
        schedules.ConstantSparsity(0.5, 0, frequency=0)


def test_schedules_agree_with_tfmot():
    # tfmot switches TensorFlow to Keras 2 when imported: run it in its own process.
    script = textwrap.dedent("""
        import json, os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import tensorflow_model_optimization as tfmot
        p = tfmot.sparsity.keras.PolynomialDecay(0.1, 0.9, begin_step=5, end_step=205, power=2, frequency=7)
        c = tfmot.sparsity.keras.ConstantSparsity(0.6, begin_step=3, end_step=50, frequency=4)
        steps = list(range(0, 260, 3))
        out = {"poly": [[bool(a), float(b)] for a, b in (p(s) for s in steps)],
               "const": [[bool(a), float(b)] for a, b in (c(s) for s in steps)], "steps": steps}
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-2000:]
    ref = json.loads(done.stdout.strip().splitlines()[-1])
    ours_p = schedules.PolynomialDecay(0.1, 0.9, begin_step=5, end_step=205, power=2, frequency=7)
    ours_c = schedules.ConstantSparsity(0.6, begin_step=3, end_step=50, frequency=4)
    for step, (should_p, value_p), (should_c, value_c) in zip(ref["steps"], ref["poly"], ref["const"], strict=True):
        assert ours_p(step) == (should_p, pytest.approx(value_p, abs=1e-6)), step
        assert ours_c(step) == (should_c, pytest.approx(value_c, abs=1e-6)), step
