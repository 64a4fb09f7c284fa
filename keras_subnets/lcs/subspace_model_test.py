# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import keras
import numpy as np
import pytest

from keras_subnets import lcs
from keras_subnets.lcs.testing import tiny_cnn, tiny_data


@pytest.mark.parametrize("variant", ["point", "line"])
@pytest.mark.parametrize("kind", ["unstructured", "structured", "bits"])
def test_fit_runs_for_each_kind_and_variant(kind, variant):
    keras.utils.set_random_seed(1)
    x, y = tiny_data()
    model = lcs.subspace(tiny_cnn(), kind=kind, variant=variant, norm="batch_per_level")
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", jit_compile=False)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert int(model.lcs_step.numpy()) == 4
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    if kind == "unstructured":
        assert int(model.warmup_steps.numpy()) == 3  # 80 % of the 4 steps
    if variant == "line":
        assert all(0.0 <= float(la.cosine_regularization()) <= 1.0 for la in model.lcs_layers())
    lcs.set_alpha(model, 0.3)
    assert model.predict(x[:2], verbose=0).shape == (2, 5)


def test_structured_sandwich_sums_the_networks_and_counts_cos2_once():
    keras.utils.set_random_seed(2)
    x, y = tiny_data(8)
    model = lcs.subspace(tiny_cnn(), kind="structured", variant="line", norm="instance",
                         regularization=5.0, sandwich=0)
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
    reg = sum(float(la.cosine_regularization()) for la in model.lcs_layers())
    task = []
    for alpha in (1.0, 0.0):
        with lcs.alpha(model, alpha):
            task.append(float(model.evaluate(x, y, verbose=0)))
    assert reg > 0.01
    assert model.train_on_batch(x, y) == pytest.approx(sum(task) + reg, rel=1e-4)


@pytest.mark.parametrize("kind", ["unstructured", "bits"])
def test_sandwich_sampling_trains_both_ends_of_every_kind(kind):
    keras.utils.set_random_seed(2)
    x, y = tiny_data(8)
    model = lcs.subspace(tiny_cnn(), kind=kind, norm="group", sampling="sandwich", sandwich=0,
                         alpha_min=0.2, warmup_steps=0)
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
    task = []
    for alpha in (1.0, 0.2):
        with lcs.alpha(model, alpha):
            task.append(float(model.evaluate(x, y, verbose=0)))
    assert abs(task[0] - task[1]) > 1e-3  # the two ends are different networks
    assert model.train_on_batch(x, y) == pytest.approx(sum(task), rel=1e-4)
    restored = lcs.SubspaceModel.from_config(model.get_config())
    assert restored.sampling == "sandwich"


def test_sandwich_sampling_rejects_per_layer_bits_and_unknown_names():
    with pytest.raises(ValueError, match="per_layer_bits"):
        lcs.subspace(tiny_cnn(), kind="bits", sampling="sandwich", per_layer_bits=True)
    with pytest.raises(ValueError, match="sampling"):
        lcs.subspace(tiny_cnn(), kind="unstructured", sampling="often")


def test_drawn_alpha_reaches_the_layers_inside_the_traced_step():
    keras.utils.set_random_seed(3)
    x, y = tiny_data(8)
    model = lcs.subspace(tiny_cnn(), kind="unstructured", warmup_steps=0, alpha_min=0.3)
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
    # One jitted step draws different α: the dense layer's kept fraction varies.
    kept = set()
    dense = model.get_layer("classifier")
    for _ in range(6):
        w = dense.kernel.numpy().copy()
        model.train_on_batch(x, y)
        kept.add(int(np.sum(dense.kernel.numpy() != w)))
    assert len(kept) > 1


def test_warmup_keeps_every_weight_at_the_start():
    keras.utils.set_random_seed(3)
    x, y = tiny_data(8)
    model = lcs.subspace(tiny_cnn(), kind="unstructured", warmup_steps=10**6, alpha_min=0.025)
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
    dense = model.get_layer("classifier")
    for _ in range(3):  # whatever α is drawn, step ≈ 0 keeps (almost) all weights
        w = dense.kernel.numpy().copy()
        model.train_on_batch(x, y)
        assert np.mean(dense.kernel.numpy() != w) > 0.99


def test_bad_training_options_are_named():
    with pytest.raises(ValueError, match="alpha_min"):
        lcs.subspace(tiny_cnn(), alpha_min=1.5)
    inputs = keras.Input((3,))
    with pytest.raises(ValueError, match="no LCS layer"):
        lcs.SubspaceModel(inputs, keras.layers.Dense(2)(inputs))


def test_per_layer_bit_widths():
    keras.utils.set_random_seed(6)
    x, y = tiny_data(8)
    model = lcs.subspace(tiny_cnn(), kind="bits", norm="group", groups=2, per_layer_bits=True)
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
    assert np.isfinite(model.train_on_batch(x, y))
    stem, pw = model.get_layer("stem"), model.get_layer("pw")
    with lcs.alpha_override({"": 1.0, "stem": 0.0}):
        coarse = np.unique(keras.ops.convert_to_numpy(stem.effective_weights()[0]))
        fine = np.unique(keras.ops.convert_to_numpy(pw.effective_weights()[0]))
    assert len(coarse) <= 7 < len(fine)  # 3 bits for the stem, 8 bits elsewhere
    assert lcs.SubspaceModel.from_config(model.get_config()).per_layer_bits
    with pytest.raises(ValueError, match="per_layer_bits"):
        lcs.subspace(tiny_cnn(), kind="unstructured", per_layer_bits=True)


def _numpy_top_k(kernel: np.ndarray, keep: float) -> np.ndarray:
    magnitude = np.abs(kernel).ravel()
    count = int(np.clip(np.round(np.float32(keep) * np.float32(magnitude.size)), 1, magnitude.size))
    threshold = np.sort(magnitude)[::-1][count - 1]
    return np.abs(kernel) >= threshold


@pytest.mark.parametrize("kind", ["unstructured", "structured"])
@pytest.mark.parametrize("share", [0.0, 0.3])
def test_inner_gradient_scales_the_smaller_networks_weights_in_the_sandwich(kind, share):
    import tensorflow as tf

    keras.utils.set_random_seed(4)
    x, y = tiny_data(8)
    low = 0.0 if kind == "structured" else 0.3
    # Structured's low end is always α = 0; alpha_min is the others'.
    options = dict(kind=kind, norm="group", sampling="sandwich", sandwich=0, alpha_min=0.3, warmup_steps=0)
    routed = lcs.subspace(tiny_cnn(), inner_gradient=share, **options)
    plain = lcs.subspace(tiny_cnn(), **options)
    plain.set_weights(routed.get_weights())
    for m in (routed, plain):
        m.compile("sgd", "sparse_categorical_crossentropy", jit_compile=False)
    ce = keras.losses.SparseCategoricalCrossentropy()

    def kernels(m):
        return [la.kernel for la in m.lcs_layers()]

    def step_gradients(m):
        with tf.GradientTape() as tape:
            loss = m.compute_loss(x, y, m(x, training=True), training=True)
        return float(loss), [g.numpy() for g in tape.gradient(loss, kernels(m))]

    def pass_gradients(alpha):
        with tf.GradientTape() as tape, lcs.alpha_override(alpha):
            loss = ce(y, plain(x, training=True))
        return [g.numpy() for g in tape.gradient(loss, kernels(plain))]

    full, small = pass_gradients(1.0), pass_gradients(low)
    routed_loss, got = step_gradients(routed)
    plain_loss, summed = step_gradients(plain)
    assert routed_loss == pytest.approx(plain_loss, rel=1e-6)  # values are untouched
    for layer, g, f, s, p in zip(routed.lcs_layers(), got, full, small, summed, strict=True):
        np.testing.assert_allclose(p, f + s, rtol=1e-5, atol=1e-7)  # the sandwich is α = 1 plus the low end
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        if kind == "unstructured":
            inner = _numpy_top_k(kernel, low)
        else:
            inner = keras.ops.convert_to_numpy(layer._structured_masks(lcs.coordinates.width_fraction(0.0))[0])
            inner = np.broadcast_to(inner, kernel.shape) > 0
        assert 0 < inner.sum() < inner.size or layer.name == "classifier"
        np.testing.assert_allclose(g[inner], share * f[inner] + s[inner], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(g[~inner], f[~inner] + s[~inner], rtol=1e-5, atol=1e-7)


def test_inner_gradient_refuses_what_has_no_nested_networks():
    with pytest.raises(ValueError, match="inner_gradient must lie in"):
        lcs.subspace(tiny_cnn(), kind="unstructured", sampling="sandwich", inner_gradient=1.5)
    with pytest.raises(ValueError, match="sampling='sandwich'"):
        lcs.subspace(tiny_cnn(), kind="unstructured", inner_gradient=0.1)
    with pytest.raises(ValueError, match="variant='line'"):
        lcs.subspace(tiny_cnn(), kind="unstructured", variant="line", sampling="sandwich", inner_gradient=0.1)
    with pytest.raises(ValueError, match="kind='bits'"):
        lcs.subspace(tiny_cnn(), kind="bits", sampling="sandwich", inner_gradient=0.1)
    model = lcs.subspace(tiny_cnn(), kind="structured", inner_gradient=0.2)
    assert lcs.SubspaceModel.from_config(model.get_config()).inner_gradient == 0.2


def test_geometric_draw_spacing_round_trips_and_refuses_alpha_zero():
    model = lcs.subspace(tiny_cnn(), kind="unstructured", sampling="sandwich", draw_spacing="geometric")
    assert lcs.SubspaceModel.from_config(model.get_config()).draw_spacing == "geometric"
    with pytest.raises(ValueError, match="structured subspaces start at α = 0"):
        lcs.subspace(tiny_cnn(), kind="structured", draw_spacing="geometric")
    with pytest.raises(ValueError, match="alpha_min is 0"):
        lcs.subspace(tiny_cnn(), kind="bits", alpha_min=0.0, draw_spacing="geometric")
    with pytest.raises(ValueError, match="draw_spacing must be one of"):
        lcs.subspace(tiny_cnn(), kind="bits", draw_spacing="log")


def test_freeze_order_fixes_every_mask_after_the_warmup_and_survives_saving(tmp_path):
    keras.utils.set_random_seed(5)
    x, y = tiny_data(16)
    model = lcs.subspace(tiny_cnn(), kind="unstructured", norm="group", warmup_steps=2, freeze_order=True)
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", jit_compile=False)
    model.train_on_batch(x, y)
    # The second step's forward pass is the last before the warm-up ends: its |w| is the frozen ranking.
    ranked = {la.name: np.abs(keras.ops.convert_to_numpy(la.kernel)) for la in model.lcs_layers()}
    for _ in range(4):
        model.train_on_batch(x, y)
    layers = model.lcs_layers()
    assert all(float(la.order_frozen.numpy()) == 1.0 for la in layers)
    alphas = [0.3, 0.6, 1.0]
    exported = lcs.export_levels(model, alphas)
    for la in layers:
        kernel = keras.ops.convert_to_numpy(la.kernel)
        np.testing.assert_array_equal(la.order.numpy(), ranked[la.name])
        assert not np.array_equal(np.abs(kernel), ranked[la.name])  # training went on after freezing
        level = keras.ops.convert_to_numpy(exported.get_layer(la.name).kernel_level)
        for k, alpha in enumerate(alphas):
            expected = _numpy_top_k(ranked[la.name], alpha)
            with lcs.alpha_override(alpha):
                effective = keras.ops.convert_to_numpy(la.effective_weights()[0])
            np.testing.assert_array_equal(effective, np.where(expected, kernel, 0.0))
            np.testing.assert_array_equal(level <= k, expected)
    path = tmp_path / "frozen.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.freeze_order
    for a, b in zip(layers, restored.lcs_layers(), strict=True):
        np.testing.assert_array_equal(a.order.numpy(), b.order.numpy())
        assert float(b.order_frozen.numpy()) == 1.0
    with pytest.raises(ValueError, match="freeze_order"):
        lcs.subspace(tiny_cnn(), kind="unstructured", variant="line", freeze_order=True)
    with pytest.raises(ValueError, match="freeze_order"):
        lcs.subspace(tiny_cnn(), kind="structured", freeze_order=True)


def test_without_freezing_the_ranking_follows_the_weights():
    keras.utils.set_random_seed(5)
    x, y = tiny_data(16)
    model = lcs.subspace(tiny_cnn(), kind="unstructured", norm="group", warmup_steps=1)
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", jit_compile=False)
    for _ in range(3):
        model.train_on_batch(x, y)
    for la in model.lcs_layers():
        assert float(la.order_frozen.numpy()) == 0.0
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(la.ranking()),
                                      np.abs(keras.ops.convert_to_numpy(la.kernel)))


@pytest.mark.parametrize("spacing", ["linear", "geometric"])
def test_stratified_draws_put_one_alpha_in_each_stratum(spacing):
    def draws(stratified):
        model = lcs.subspace(tiny_cnn(), kind="unstructured", sampling="sandwich", sandwich=3,
                             alpha_min=0.1, draw_spacing=spacing, stratified_draws=stratified)
        return np.array([[float(a) for a in model._draw_sandwich()] for _ in range(200)])

    # Stratum edges in α: the spread of 0, 1/3, 2/3 and 1.
    u = np.array([0.0, 1 / 3, 2 / 3, 1.0])
    edges = 0.1 ** (1 - u) if spacing == "geometric" else 0.1 + 0.9 * u
    stratified = draws(True)
    assert np.all(stratified[:, 0] == np.float32(0.1))  # the sandwich's small end
    for i in range(3):
        assert np.all((stratified[:, 1 + i] >= edges[i] - 1e-6) & (stratified[:, 1 + i] <= edges[i + 1] + 1e-6))
    # Each stratum is covered, not just hit at its edge.
    assert np.all(np.ptp(stratified[:, 1:], axis=0) > 0.5 * np.diff(edges))
    independent = draws(False)
    assert np.any(independent[:, 1] > edges[1]) and np.all(np.diff(independent[:, 1:], axis=1) >= 0)
    restored = lcs.SubspaceModel.from_config(lcs.subspace(
        tiny_cnn(), kind="unstructured", sampling="sandwich", stratified_draws=True).get_config())
    assert restored.stratified_draws
    with pytest.raises(ValueError, match="stratified_draws spreads the sandwich"):
        lcs.subspace(tiny_cnn(), kind="unstructured", stratified_draws=True)


def test_warmup_power_shapes_the_kept_fraction_of_the_model():
    model = lcs.subspace(tiny_cnn(), kind="unstructured", warmup_steps=100, warmup_power=3)
    model.lcs_step.assign(50)
    assert float(model._keep(0.2)) == pytest.approx(0.2 + 0.8 * 0.5**3)
    assert lcs.SubspaceModel.from_config(model.get_config()).warmup_power == 3.0
    with pytest.raises(ValueError, match="warmup_power must be >= 1"):
        lcs.subspace(tiny_cnn(), kind="unstructured", warmup_power=0.5)


def test_the_readme_recipe_trains_saves_and_exports(tmp_path):
    """The README's recipe, every option together: fit, save/load, then export at α >= alpha_min."""
    keras.utils.set_random_seed(5)
    x, y = tiny_data(32)
    model = lcs.subspace(tiny_cnn(), kind="unstructured", variant="point", norm="batch_per_level",
                         alpha_bands="geometric", sampling="sandwich", alpha_min=0.1, inner_gradient=0.1,
                         draw_spacing="geometric", warmup_power=3, freeze_order=True)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", jit_compile=False)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert int(model.warmup_steps.numpy()) == 6  # 80 % of 8 steps
    assert all(float(la.order_frozen.numpy()) == 1.0 for la in model.lcs_layers())
    path = tmp_path / "recipe.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    config = restored.get_config()["lcs_training"]
    assert (config["alpha_min"], config["warmup_power"], config["freeze_order"]) == (0.1, 3.0, True)
    alphas = [0.1, 0.25, 0.5, 1.0]
    exported = lcs.export_levels(restored, alphas, calibration_data=x)
    assert exported.num_levels == 4
    with pytest.raises(ValueError, match="below alpha_min = 0.1"):
        lcs.export_levels(restored, [0.05, 1.0])
