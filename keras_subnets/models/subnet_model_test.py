# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_subnets as ks
from keras_subnets.levels import level_override

LEVELS = [0.8, 0.5, 0.0]


def _mlp(levels=LEVELS, mask_kind="unstructured", **options):
    inputs = keras.Input((12,))
    x = ks.SubnetDense(16, activation="relu", levels=levels, mask_kind=mask_kind)(inputs)
    outputs = ks.SubnetDense(4, levels=levels, mask_kind=mask_kind)(x)
    return ks.SubnetModel(inputs, outputs, **options)


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 12)).astype("float32"), rng.integers(0, 4, size=n)


def test_training_loss_is_the_weighted_sum_of_level_losses():
    model = _mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data()
    total = model.compute_loss(x, y, model(x, training=True), training=True)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    expected = 0.0
    # REDS's weights, written out here rather than taken from the code under test.
    raw = [np.sqrt(1.0 - s) for s in LEVELS]
    for k, w in enumerate(r / sum(raw) for r in raw):
        with level_override(k):
            expected += w * float(ce(y, model(x, training=True)))
    assert float(total) == pytest.approx(expected, rel=1e-6)
    assert float(model.compute_loss(x, y, model(x), training=False)) == pytest.approx(float(ce(y, model(x))))


def test_fit_never_moves_weights_outside_every_level_and_reports_each_level():
    model = _mlp(levels=[0.9, 0.5])  # no dense level: half of every kernel is in no level
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [keras.ops.convert_to_numpy(la.kernel).copy() for la in model.subnet_layers()]
    x, y = _data()
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert {"loss", "level_0_loss", "level_1_loss"} <= set(history.history)
    for layer, old in zip(model.subnet_layers(), before, strict=True):
        new = keras.ops.convert_to_numpy(layer.kernel)
        outside = ~layer.level_masks()[-1]
        assert outside.sum() > 0
        np.testing.assert_array_equal(new[outside], old[outside])
        assert np.any(new[~outside] != old[~outside])


def test_validation_logs_every_level_and_callbacks_can_monitor_one():
    model = _mlp()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = _data()
    xv, yv = _data(32, seed=1)
    ks.set_level(model, 1)  # the active level must survive the per-level passes
    stop = keras.callbacks.EarlyStopping(monitor="val_level_0_accuracy", patience=0, mode="max")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_data=(xv, yv),
                        callbacks=[stop]).history
    assert ks.get_level(model) == 1
    keys = {f"val_level_{k}_{m}" for k in range(3) for m in ("loss", "accuracy")}
    assert keys <= set(history)
    assert {"val_level_0_loss", "level_0_accuracy"} <= set(history)
    # The last epoch's logged values are what evaluate() gives at each level now.
    for k in range(3):
        with ks.level(model, k):
            found = model.evaluate(xv, yv, verbose=0, return_dict=True)
        assert found.keys() == {"loss", "accuracy"}
        assert history[f"val_level_{k}_loss"][-1] == pytest.approx(found["loss"], rel=1e-5)
        assert history[f"val_level_{k}_accuracy"][-1] == pytest.approx(found["accuracy"])
    assert history["val_loss"][-1] == pytest.approx(history["val_level_1_loss"][-1], rel=1e-5)
    quiet = _mlp(validate_levels=False)
    quiet.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    logged = quiet.fit(x, y, epochs=1, verbose=0, validation_data=(xv, yv)).history
    assert not any(key.startswith("val_level_") for key in logged)


def _softmax_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def test_fit_logs_every_compiled_metric_of_every_level(tmp_path):
    model = _mlp()
    top2 = keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy", top2])
    x, y = _data(48)
    # The oracle: each level run on its own on the batch, scored in numpy,
    # before the one optimizer step the logs are measured in.
    expected = {}
    for k in range(3):
        with level_override(k):
            logits = keras.ops.convert_to_numpy(model(x, training=True))
        expected[f"level_{k}_loss"] = _softmax_cross_entropy(logits, y)
        expected[f"level_{k}_accuracy"] = float(np.mean(logits.argmax(-1) == y))
        best2 = np.argsort(logits, axis=-1)[:, -2:]
        expected[f"level_{k}_top2"] = float(np.mean([label in row for label, row in zip(y, best2, strict=True)]))
    assert expected["level_0_accuracy"] != expected["level_2_accuracy"]
    history = model.fit(x, y, batch_size=48, epochs=1, shuffle=False, verbose=0).history
    for key, value in expected.items():
        assert history[key][0] == pytest.approx(value, rel=1e-5), key
    assert history["accuracy"] == history["level_2_accuracy"]
    # Any level can be monitored; evaluate() stays a plain model's.
    best = tmp_path / "best.keras"
    callbacks = [keras.callbacks.ModelCheckpoint(best, monitor="level_0_accuracy", save_best_only=True),
                 keras.callbacks.EarlyStopping(monitor="level_0_loss", patience=1),
                 keras.callbacks.EarlyStopping(monitor="level_1_accuracy", patience=1)]
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=callbacks)
    assert best.exists()
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy", "top2"}
    # A new compile gives every level the new metrics.
    xent = keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="xent")
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[xent])
    logged = model.fit(x, y, batch_size=48, epochs=1, verbose=0).history
    assert {"level_0_xent", "level_2_xent"} <= set(logged) and "level_0_accuracy" not in logged
    assert logged["level_0_xent"] == pytest.approx(logged["level_0_loss"], rel=1e-5)


def test_tensorboard_shows_a_curve_per_level(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is in the dev extras: pip install -e '.[dev]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = _mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x, y = _data()
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path)]).history
    events = EventAccumulator(str(tmp_path / "train"), size_guidance={"tensors": 0}).Reload()
    for k in range(3):
        for name in ("loss", "accuracy"):
            points = events.Tensors(f"epoch_level_{k}_{name}")
            logged = [float(tf.make_ndarray(p.tensor_proto)) for p in points]
            assert logged == pytest.approx(history[f"level_{k}_{name}"], rel=1e-6)


def test_summary_separates_level_tables_from_weights_and_lists_levels():
    model = _mlp()
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(lines)
    # 12*16 + 16*4 kernel entries + 16 + 4 unit entries + 2 active levels.
    assert "Of the non-trainable params, 278 are int32 level state" in text
    assert "276 trainable weights" in text
    rows = [line.split() for line in lines[-3:]]
    for k, row in enumerate(rows):
        cost = ks.level_costs(model, k)
        assert row[0] == str(k) and row[2] == f"{cost['nonzeros']:,}" and row[4] == f"{cost['macs']:,}"
        assert row[5] == f"{4 * cost['nonzeros']:,}"  # float32
    assert rows[0][2] != rows[2][2]


def test_each_level_loss_routes_gradients_only_into_its_mask():
    model = _mlp()
    x, y = _data()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for k in range(len(LEVELS)):
        with tf.GradientTape() as tape, level_override(k):
            loss = ce(y, model(x, training=True))
        kernels = [la.kernel for la in model.subnet_layers()]
        for layer, grad in zip(model.subnet_layers(), tape.gradient(loss, kernels), strict=True):
            assert np.all(grad.numpy()[~layer.level_masks()[k]] == 0.0)


@pytest.mark.parametrize("mask_kind", ["unstructured", "row", "structured"])
@pytest.mark.parametrize("share", [0.0, 0.25])
def test_inner_gradient_scales_only_the_smaller_levels_weights(share, mask_kind):
    model = _mlp(inner_gradient=share, mask_kind=mask_kind)
    plain = _mlp(mask_kind=mask_kind)
    if mask_kind == "structured":
        for m in (model, plain):
            hidden, head = m.subnet_layers()
            hidden.set_structured_levels([4, 8, 16])
            head.set_structured_levels([4, 4, 4], input_levels=keras.ops.convert_to_numpy(hidden.unit_level))
    plain.set_weights(model.get_weights())
    x, y = _data()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def gradients(m, k):
        with tf.GradientTape() as tape, level_override(k):
            out = m(x, training=True)
            loss = ce(y, out)
        return out, tape.gradient(loss, [la.kernel for la in m.subnet_layers()])

    for k in range(len(LEVELS)):
        out, scaled = gradients(model, k)
        plain_out, full = gradients(plain, k)
        np.testing.assert_array_equal(out.numpy(), plain_out.numpy())  # values are untouched
        for layer, g, f in zip(model.subnet_layers(), scaled, full, strict=True):
            level = keras.ops.convert_to_numpy(layer.kernel_level)
            g, f = g.numpy(), f.numpy()
            inner, own = level < k, level == k
            np.testing.assert_allclose(g[inner], share * f[inner], rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(g[own], f[own], rtol=1e-6, atol=1e-7)
            assert np.all(g[level > k] == 0.0)
            assert np.any(f[inner] != 0.0) or k == 0
    with pytest.raises(ValueError, match="inner_gradient"):
        _mlp(inner_gradient=-0.1)


@pytest.mark.parametrize("shared", [1.0, 0.25, 0.0])
def test_shared_gradient_scales_layers_dense_in_every_level(shared):
    def build(**options):
        inputs = keras.Input((12,))
        x = ks.SubnetDense(16, levels=LEVELS, mask_kind="structured", name="dense_everywhere")(inputs)
        outputs = ks.SubnetDense(4, levels=LEVELS, name="sparse")(x)
        return ks.SubnetModel(inputs, outputs, **options)

    scaled, plain = build(inner_gradient=0.0, shared_gradient=shared), build()
    plain.set_weights(scaled.get_weights())
    x, y = _data()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def gradient(model, k):
        with tf.GradientTape() as tape, level_override(k):
            loss = ce(y, model(x, training=True))
        return tape.gradient(loss, model.get_layer("dense_everywhere").kernel).numpy()

    full = gradient(plain, 2)
    assert np.all(full != 0.0)
    # Every weight is in level 0: a level above 0 reaches it with the shared share, not inner_gradient's 0.
    np.testing.assert_allclose(gradient(scaled, 2), shared * full, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gradient(scaled, 0), gradient(plain, 0), rtol=1e-6, atol=1e-8)
    assert ks.SubnetModel.from_config(scaled.get_config()).shared_gradient == shared
    with pytest.raises(ValueError, match="shared_gradient"):
        build(shared_gradient=1.5)


def test_sandwich_and_distillation_train():
    levels = [0.9, 0.8, 0.6, 0.4, 0.0]
    model = _mlp(levels=levels, sandwich=1, distillation=0.5, distillation_temperature=2.0)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["level_0_loss"][-1] > 0 and history.history["level_4_loss"][-1] > 0
    # The middle levels are drawn at random: they are not logged as if measured.
    assert "level_2_loss" not in history.history


def test_sandwich_draws_varying_middle_levels_and_weights_them():
    levels = [0.9, 0.8, 0.6, 0.4, 0.0]
    model = _mlp(levels=levels, sandwich=1)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses = []
    for k in range(len(levels)):
        with level_override(k):
            losses.append(float(ce(y, model(x, training=True))))
    w = model.level_weights
    # The sparsest, the densest and one drawn middle level, weight-normalised.
    candidates = {k: (w[4] * losses[4] + w[0] * losses[0] + w[k] * losses[k]) / (w[4] + w[0] + w[k])
                  for k in (1, 2, 3)}
    drawn = []
    for _ in range(30):
        total = float(model.compute_loss(x, y, model(x, training=True), training=True))
        match = [k for k, c in candidates.items() if abs(c - total) < 1e-6 * abs(c)]
        assert len(match) == 1, f"loss {total} matches no single drawn level: {candidates}"
        drawn.append(match[0])
    assert len(set(drawn)) == 3, f"sandwich drew only levels {sorted(set(drawn))} in 30 steps"


def test_distillation_term_matches_a_hand_computed_kl():
    model = _mlp(levels=[0.5, 0.0], distillation=1.0, distillation_temperature=2.0)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data()
    dense = model(x, training=True)
    with level_override(0):
        sparse = model(x, training=True)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    p = tf.nn.softmax(dense / 2.0).numpy()
    q = tf.nn.softmax(sparse / 2.0).numpy()
    kl = np.mean(np.sum(p * np.log(p / q), axis=1)) * 4.0
    w = ks.levels.default_loss_weights([0.5, 0.0])
    expected = w[1] * float(ce(y, dense)) + w[0] * kl
    got = float(model.compute_loss(x, y, dense, training=True))
    assert got == pytest.approx(expected, rel=1e-4)


def test_bad_options_are_rejected_with_the_model_named():
    with pytest.raises(ValueError, match="level_weights"):
        _mlp(level_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="distillation"):
        _mlp(distillation=1.5)
    inputs = keras.Input((3,))
    with pytest.raises(ValueError, match="no sub-network layer"):
        ks.SubnetModel(inputs, keras.layers.Dense(2)(inputs))


def test_save_and_load_round_trip_every_variable_and_option(tmp_path):
    inputs = keras.Input((8, 8, 1))
    x = ks.SubnetConv2D(4, 3, levels=LEVELS, mask_kind="row")(inputs)
    x = ks.SubnetBatchNormalization(levels=LEVELS)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = ks.SubnetDense(3, levels=LEVELS, mask_kind="block")(x)
    model = ks.SubnetModel(inputs, outputs, sandwich=None, distillation=0.25)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    rng = np.random.default_rng(3)
    xs, ys = rng.normal(size=(32, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 32)
    schedule = ks.schedules.PolynomialDecay(0.0, 0.8, begin_step=0, end_step=4, frequency=1)
    model.fit(xs, ys, epochs=1, batch_size=8, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    ks.set_level(model, 1)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, ks.SubnetModel)
    assert loaded.get_config()["subnet_training"] == model.get_config()["subnet_training"]
    assert int(loaded.schedule_step.numpy()) == 4
    assert ks.get_level(loaded) == 1
    assert len(model.variables) == len(loaded.variables)
    for old, new in zip(model.variables, loaded.variables, strict=True):
        if "seed_generator" not in old.path:  # generator names are numbered per process
            assert old.path == new.path
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(new), keras.ops.convert_to_numpy(old),
                                      err_msg=old.path)
    np.testing.assert_array_equal(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0))


def test_reloaded_model_keeps_its_input_structure_for_export(tmp_path):
    model = _mlp()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert not isinstance(loaded.input, list)
    loaded.export(tmp_path / "saved", verbose=False)
    x, _ = _data(4)
    restored = tf.saved_model.load(str(tmp_path / "saved"))  # holds the variables serve() reads
    served = restored.serve(x)
    np.testing.assert_allclose(served.numpy(), model.predict(x, verbose=0), rtol=1e-6)
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    two = ks.SubnetModel([a, b], ks.SubnetDense(2, levels=LEVELS)(joined))
    two.save(tmp_path / "two.keras")
    assert isinstance(keras.models.load_model(tmp_path / "two.keras").input, list)


def test_mirrored_strategy_matches_single_device_training(tmp_path):
    # Logical devices must be configured before TensorFlow starts: own process.
    script = textwrap.dedent("""
        import os, sys
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras_subnets as ks

        def build():
            keras.utils.set_random_seed(7)
            inputs = keras.Input((12,))
            x = ks.SubnetDense(16, activation="relu", levels=[0.8, 0.5, 0.0])(inputs)
            out = ks.SubnetDense(4, levels=[0.8, 0.5, 0.0])(x)
            model = ks.SubnetModel(inputs, out)
            model.compile(keras.optimizers.SGD(0.1),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            return model

        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 12)).astype("float32"); y = rng.integers(0, 4, 64)
        single = build()
        h1 = single.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        with strategy.scope():
            mirrored = build()
        hist = mirrored.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        for a, b in zip(single.trainable_weights, mirrored.trainable_weights):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
        for key in ("loss", "level_0_loss", "level_2_loss"):
            np.testing.assert_allclose(h1[key], hist.history[key], rtol=1e-5)
        print("MIRRORED-OK")
    """)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert "MIRRORED-OK" in done.stdout, done.stderr[-3000:]


def test_jax_data_parallel_matches_single_device_training():
    pytest.importorskip("jax", reason="the JAX backend is not installed (pip install -e '.[dev]')")
    # The backend and the host device count are fixed when JAX starts: own process.
    script = textwrap.dedent("""
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        os.environ["KERAS_BACKEND"] = "jax"
        import numpy as np, keras, jax
        import keras_subnets as ks

        def build():
            rng = np.random.default_rng(7)
            inputs = keras.Input((12,))
            x = ks.SubnetDense(16, activation="relu", levels=[0.8, 0.5, 0.0], name="a")(inputs)
            out = ks.SubnetDense(4, levels=[0.8, 0.5, 0.0], name="b")(x)
            model = ks.SubnetModel(inputs, out)
            model.get_layer("a").kernel.assign(rng.normal(size=(12, 16)).astype("float32"))
            model.get_layer("b").kernel.assign(rng.normal(size=(16, 4)).astype("float32"))
            for layer in model.subnet_layers():
                layer.update_masks()
            model.compile(keras.optimizers.SGD(0.1),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            return model

        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 12)).astype("float32"); y = rng.integers(0, 4, 64)
        single = build()
        h1 = single.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
        devices = jax.devices("cpu")
        assert len(devices) == 2
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        parallel = build()
        h2 = parallel.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
        assert len(parallel.trainable_weights[0].value.sharding.device_set) == 2
        for a, b in zip(single.trainable_weights, parallel.trainable_weights):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
        for key in ("loss", "level_0_loss", "level_2_loss"):
            np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5)
        print("DATAPARALLEL-OK")
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert "DATAPARALLEL-OK" in done.stdout, done.stderr[-3000:]


def test_training_from_scratch_with_a_schedule_learns_every_level():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(512, 12)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32") + 2 * (x[:, 2] > 0).astype("int32")
    model = ks.nest(keras.Sequential([keras.Input((12,)), keras.layers.Dense(32, activation="relu"),
                                      keras.layers.Dense(4)]), LEVELS)
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    schedule = ks.schedules.PolynomialDecay(0.0, 0.8, begin_step=0, end_step=60, frequency=10)
    model.fit(x, y, batch_size=32, epochs=8, verbose=0, callbacks=[ks.MaskScheduler(schedule)])
    rows = ks.evaluate_levels(model, x, y, print_table=False)
    assert rows[0]["sparsity"] > 0.6
    for row in rows:
        assert row["accuracy"] > 0.8, row


def test_inner_gradient_follows_masks_that_appear_after_tracing():
    # A mask schedule starts with every weight in level 0 and grows masks after fit traced its step.
    model = _mlp(inner_gradient=0.0)
    x, y = _data()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    layer = model.subnet_layers()[1]
    masks = keras.ops.convert_to_numpy(layer.kernel_level).copy()
    layer.kernel_level.assign(np.zeros_like(masks))

    @tf.function
    def top_level_gradient():
        with tf.GradientTape() as tape, level_override(len(LEVELS) - 1), ks.levels.inner_gradient(0.0):
            loss = ce(y, model(x, training=True))
        return tape.gradient(loss, layer.kernel)

    assert np.all(top_level_gradient().numpy() != 0.0)  # all in level 0: nothing scaled
    layer.kernel_level.assign(masks)
    grad = top_level_gradient().numpy()
    assert np.all(grad[masks < len(LEVELS) - 1] == 0.0) and np.any(grad[masks == len(LEVELS) - 1] != 0.0)
