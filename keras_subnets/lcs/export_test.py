# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""export_levels → convert → densify → TFLM reference, against the subspace at each α."""

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets import lcs
from keras_subnets.convert import convert, densify
from keras_subnets.convert.reference import run_tflm
from keras_subnets.lcs.testing import tiny_cnn, tiny_data


def _trained(kind, variant="point", norm="batch_per_level"):
    keras.utils.set_random_seed(4)
    x, y = tiny_data(16)
    model = lcs.subspace(tiny_cnn(), kind=kind, variant=variant, norm=norm)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", jit_compile=False)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    return model, x


@pytest.mark.parametrize("kind, norm, alphas", [
    ("unstructured", "batch_per_level", [0.1, 0.3, 0.6, 1.0]),
    ("structured", "group", [0.0, 0.4, 0.7, 1.0]),
])
def test_exported_levels_match_the_subspace_through_the_converter(kind, norm, alphas):
    model, x = _trained(kind, norm=norm)
    exported = lcs.export_levels(model, alphas)
    assert isinstance(exported, ks.SubnetModel) and exported.num_levels == 4
    blob = convert(exported, quantize="float32", progress=False)
    costs = [ks.level_costs(exported, k)["nonzeros"] for k in range(4)]
    assert costs == sorted(costs) and costs[0] < costs[-1]
    for k, alpha in enumerate(alphas):
        with lcs.alpha(model, alpha):
            expected = model.predict(x, verbose=0)
        got = run_tflm(densify(blob, k), x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=f"level {k} (α={alpha})")
        kept = np.count_nonzero(keras.ops.convert_to_numpy(exported.get_layer("classifier").kernel_level) <= k)
        with lcs.alpha_override(alpha):
            dense_kernel = model.get_layer("classifier").effective_weights()[0]
        assert kept == np.count_nonzero(keras.ops.convert_to_numpy(dense_kernel))


@pytest.mark.parametrize("kind, variant", [("unstructured", "line"), ("bits", "point")])
def test_line_and_bits_materialize_and_refuse_nesting(kind, variant):
    model, x = _trained(kind, variant=variant, norm="group")
    with pytest.raises(ValueError, match="materialize"):
        lcs.export_levels(model, [0.5, 1.0])
    for alpha in (0.2, 1.0):
        plain = lcs.materialize(model, alpha)
        assert not any(isinstance(la, lcs.LcsLayerMixin) for la in plain.layers)
        with lcs.alpha(model, alpha):
            np.testing.assert_allclose(plain.predict(x, verbose=0), model.predict(x, verbose=0),
                                       rtol=1e-5, atol=1e-6)
    if kind == "bits":
        kernel = plain.get_layer("pw").kernel.numpy()
        assert len(np.unique(lcs.materialize(model, 0.0).get_layer("pw").kernel.numpy())) <= 7  # 3 bits
        assert len(np.unique(kernel)) <= 255
    else:
        cost = lcs.storage_cost(model, [0.2, 0.5, 1.0])
        assert cost["materialized"] == sum(cost["kept"]) > cost["nested"] == cost["kept"][-1]
        assert cost["endpoints"] == 2 * cost["kept"][-1]


def test_bad_alphas_are_named():
    model = lcs.subspace(tiny_cnn(), kind="unstructured")
    with pytest.raises(ValueError, match="strictly increasing"):
        lcs.export_levels(model, [0.5, 0.2])
    with pytest.raises(ValueError, match=r"alphas\[1\].*\[0, 1\]"):
        lcs.export_levels(model, [0.5, 1.5])
    with pytest.raises(ValueError, match="keeps no weight"):
        lcs.export_levels(model, [0.0, 1.0])
    with pytest.raises(ValueError, match="same network"):
        lcs.export_levels(model, [0.5, 0.5001])
    with pytest.raises(ValueError, match=r"alphas\[0\] = 0.05 lies below alpha_min = 0.1"):
        lcs.export_levels(lcs.subspace(tiny_cnn(), kind="unstructured", alpha_min=0.1), [0.05, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lcs.materialize(model, -0.5)


def test_structured_export_follows_a_flatten_in_keras():
    keras.utils.set_random_seed(5)
    model = lcs.subspace(tiny_cnn(flatten=True), kind="structured", norm="instance")
    x, _ = tiny_data(4)
    alphas = [0.0, 0.5, 1.0]
    exported = lcs.export_levels(model, alphas)
    for k, alpha in enumerate(alphas):
        with lcs.alpha(model, alpha), ks.level(exported, k):
            np.testing.assert_allclose(exported.predict(x, verbose=0), model.predict(x, verbose=0),
                                       rtol=1e-5, atol=1e-6, err_msg=f"α={alpha}")


def test_calibration_data_gives_each_level_the_statistics_of_exactly_its_alpha():
    model, x = _trained("unstructured")
    alphas = [0.15, 0.4, 1.0]
    plain = lcs.export_levels(model, alphas)
    exported = lcs.export_levels(model, alphas, calibration_data=x)
    saved = [v.numpy() for v in model.non_trainable_variables]
    for k, alpha in enumerate(alphas):
        lcs.recalibrate_batch_norm(model, x, alpha=alpha)
        with lcs.alpha(model, alpha):
            expected = model.predict(x, verbose=0)
        for v, value in zip(model.non_trainable_variables, saved, strict=True):
            v.assign(value)
        with ks.level(exported, k):
            np.testing.assert_allclose(exported.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5,
                                       err_msg=f"level {k} (α={alpha})")
        with ks.level(plain, k):
            band = plain.predict(x, verbose=0)
        assert not np.allclose(band, expected, atol=1e-3)  # the band's statistics are not α's own
