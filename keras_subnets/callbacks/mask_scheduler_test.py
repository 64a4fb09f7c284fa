# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_subnets as ks

LEVELS = [0.9, 0.5, 0.0]


def _model():
    keras.utils.set_random_seed(5)
    inputs = keras.Input((40,))
    x = ks.SubnetDense(50, activation="relu", levels=LEVELS, keep_row_max=False)(inputs)
    model = ks.SubnetModel(inputs, ks.SubnetDense(3, levels=LEVELS, keep_row_max=False)(x))
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 40)).astype("float32"), rng.integers(0, 3, 64)


def _kept(model, level):
    return int(model.subnet_layers()[0].level_masks()[level].sum())


def test_masks_follow_the_schedule_then_freeze():
    model = _model()
    x, y = _data()
    schedule = ks.schedules.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=8, frequency=2)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    # 4 steps ran; masks were last recomputed at step 2.
    fraction = schedule(2)[1] / 0.9
    assert int(model.schedule_step.numpy()) == 4
    for k, s in enumerate(LEVELS):
        assert _kept(model, k) == round((1 - s * fraction) * 2000)
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    assert int(model.schedule_step.numpy()) == 12
    assert _kept(model, 0) == round(0.1 * 2000)
    frozen = model.subnet_layers()[0].level_masks()
    kernel = keras.ops.convert_to_numpy(model.subnet_layers()[0].kernel).copy()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    assert np.any(keras.ops.convert_to_numpy(model.subnet_layers()[0].kernel) != kernel)
    np.testing.assert_array_equal(model.subnet_layers()[0].level_masks(), frozen)


def test_resuming_from_a_saved_model_continues_the_schedule(tmp_path):
    x, y = _data()
    schedule = ks.schedules.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=12, frequency=1)
    straight = _model()
    straight.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    first = _model()
    first.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    first.save(tmp_path / "half.keras")
    resumed = keras.models.load_model(tmp_path / "half.keras")
    assert int(resumed.schedule_step.numpy()) == 4
    resumed.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    assert int(resumed.schedule_step.numpy()) == 12
    for a, b in zip(straight.subnet_layers(), resumed.subnet_layers(), strict=True):
        np.testing.assert_array_equal(a.level_masks(), b.level_masks())
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a.kernel), keras.ops.convert_to_numpy(b.kernel),
                                   rtol=1e-5, atol=1e-6)


def test_scheduler_needs_a_subnet_model():
    inputs = keras.Input((3,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    plain.compile("sgd", "mse")
    with pytest.raises(ValueError, match="SubnetModel"):
        plain.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0,
                  callbacks=[ks.MaskScheduler(ks.schedules.ConstantSparsity(0.5, 0))])


def test_a_bare_number_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"ConstantSparsity\(0.9, begin_step=0\)"):
        ks.MaskScheduler(0.9)


def test_tfmot_schedule_objects_are_accepted():
    script = textwrap.dedent("""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, keras
        import tensorflow_model_optimization as tfmot
        import keras_subnets as ks
        inputs = keras.Input((40,))
        model = ks.SubnetModel(inputs, ks.SubnetDense(3, levels=[0.8, 0.0], keep_row_max=False)(inputs))
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        schedule = tfmot.sparsity.keras.PolynomialDecay(0.0, 0.8, begin_step=0, end_step=4, frequency=1)
        x = np.random.default_rng(0).normal(size=(80, 40)).astype("float32")
        model.fit(x, np.zeros(80), batch_size=16, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
        print("KEPT", int(model.subnet_layers()[0].level_masks()[0].sum()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert "KEPT 24" in done.stdout, done.stderr[-2000:]  # 20 % of 120 weights after the end step
