# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`build`'s pure parts on a stand-in TFLM tree written here: finding and checking the tree, the
kernel and CMSIS-NN source lists, the tree id, the flags file. The real builds are tested in
tests/firmware (they need a TFLM tree with its downloads and skip without one)."""

import pytest

from keras_subnets.firmware import build


def _tree(root, cmsis=True, kernels=("conv", "conv_common", "kernel_util", "micro_tensor_utils", "reduce",
                                     "reduce_common")):
    (root / build.MAKEFILE).parent.mkdir(parents=True)
    (root / build.MAKEFILE).write_text("# TFLM's Makefile\n")
    for name in build.REQUIRED_DOWNLOADS + (build.CMSIS_DOWNLOADS if cmsis else ()):
        (root / build.DOWNLOADS / name).mkdir(parents=True)
    (root / build.KERNELS_DIR / "cmsis_nn").mkdir(parents=True)
    for name in kernels:
        (root / build.KERNELS_DIR / f"{name}.cc").write_text(f"// {name}\n")
    (root / build.KERNELS_DIR / "cmsis_nn" / "conv.cc").write_text("// cmsis_nn conv\n")
    return root


def test_targets_and_a_bad_name():
    assert build.get_target("m7").qemu_machine == "mps2-an500" and build.get_target("m4").cmsis_nn
    assert build.get_target("x86").make_args == () and build.get_target("x86").qemu_machine is None
    assert "TARGET_ARCH=cortex-m4+fp" in build.get_target("m4").make_args
    with pytest.raises(ValueError, match="target must be one of x86, m4, m7, got 'm33'"):
        build.get_target("m33")


def test_a_tree_is_checked_for_its_makefile_and_downloads(tmp_path):
    with pytest.raises(build.TflmNotFoundError, match=f"{tmp_path} is not a tflite-micro tree"):
        build.check_tflm_root(tmp_path)
    root = _tree(tmp_path / "tflm", cmsis=False)
    assert build.check_tflm_root(root, cmsis_nn=False) == root.resolve()
    with pytest.raises(build.TflmNotFoundError, match=r"lacks .*/downloads/\{cmsis,cmsis_nn\}"):
        build.check_tflm_root(root)
    (root / build.DOWNLOADS / "gemmlowp").rmdir()
    with pytest.raises(build.TflmNotFoundError, match=r"/downloads/\{gemmlowp\}"):
        build.check_tflm_root(root, cmsis_nn=False)


def test_the_tree_comes_from_the_argument_else_tflm_root(tmp_path, monkeypatch):
    root = _tree(tmp_path / "tflm")
    monkeypatch.setenv("TFLM_ROOT", str(root))
    assert build.default_tflm_candidates() == [root]
    assert build.find_tflm_root() == root.resolve()
    monkeypatch.setenv("TFLM_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(build.TflmNotFoundError, match="no TFLM tree: set TFLM_ROOT .*nowhere is not a tflite-micro"):
        build.find_tflm_root()
    assert build.find_tflm_root(root) == root.resolve()  # an explicit root wins over the environment


def test_kernel_sources_swap_in_the_cmsis_nn_variants(tmp_path):
    root = _tree(tmp_path / "tflm")
    k = build.KERNELS_DIR
    ref = [f"{k}/conv.cc", f"{k}/conv_common.cc", f"{k}/kernel_util.cc", f"{k}/micro_tensor_utils.cc"]
    assert build.kernel_sources(root, build.get_target("x86"), ["CONV_2D"]) == ref
    assert build.kernel_sources(root, build.get_target("m4"), ["CONV_2D"]) == [f"{k}/cmsis_nn/conv.cc", *ref[1:]]
    # MEAN and SUM share reduce.cc: listed once, sorted.
    both = build.kernel_sources(root, build.get_target("x86"), ["SUM", "MEAN"])
    assert both == sorted(set(both)) and both.count(f"{k}/reduce.cc") == 1
    with pytest.raises(ValueError, match="builtin operator.s. GATHER, SPLIT not supported"):
        build.kernel_sources(root, build.get_target("x86"), ["SPLIT", "CONV_2D", "GATHER"])
    with pytest.raises(build.TflmNotFoundError, match="has no .*/softmax.cc"):
        build.kernel_sources(root, build.get_target("x86"), ["SOFTMAX"])


def test_cmsis_nn_sources_leave_out_float_code(tmp_path):
    root = _tree(tmp_path / "tflm")
    with pytest.raises(build.TflmNotFoundError, match="holds no CMSIS-NN sources"):
        build.cmsis_nn_sources(root, ["CONV_2D"])
    source = root / build.CMSIS_NN_SOURCE
    for rel in ("ConvolutionFunctions/arm_convolve_s8.c", "ConvolutionFunctions/arm_convolve_f32.c",
                "NNSupportFunctions/arm_nntables.c", "NNSupportFunctions/arm_nntables_flt.c",
                "SoftmaxFunctions/arm_softmax_f16.c", "BasicMathFunctions/arm_elementwise_add_s8.c",
                "PadFunctions/arm_pad_s8.c"):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text("/* */\n")
    base = [f"{build.CMSIS_NN_SOURCE}/ConvolutionFunctions/arm_convolve_s8.c",
            f"{build.CMSIS_NN_SOURCE}/NNSupportFunctions/arm_nntables.c"]
    assert build.cmsis_nn_sources(root, ["CONV_2D"]) == base
    with_add = build.cmsis_nn_sources(root, ["ADD"])  # ADD's folder only when ADD is built
    assert with_add == [f"{build.CMSIS_NN_SOURCE}/BasicMathFunctions/arm_elementwise_add_s8.c", *base]


def test_tree_id_follows_the_sources_only(tmp_path):
    root = _tree(tmp_path / "tflm")
    first = build.tree_id(root)
    assert len(first) == 16
    build._TREE_IDS.clear()
    (root / "tensorflow" / "README.md").write_text("not a build input\n")
    (root / "tensorflow" / "lite" / "micro" / "gen").mkdir()
    (root / "tensorflow" / "lite" / "micro" / "gen" / "obj.cc").write_text("// build output\n")
    assert build.tree_id(root) == first
    build._TREE_IDS.clear()
    (root / build.KERNELS_DIR / "conv.cc").write_text("// an edited kernel\n")
    assert build.tree_id(root) != first
    build._TREE_IDS.clear()


def test_flags_file_and_library_flags(tmp_path, monkeypatch):
    flags = tmp_path / "tflm_flags.mk"
    flags.write_text("# Written by print_vars.mk\nTFLM_CXX := arm-none-eabi-g++\n"
                     "TFLM_CXXFLAGS := -fno-rtti -DTF_LITE_STATIC_MEMORY '-DNAME=a b'\nOTHER := x\n"
                     "TFLM_LIB := /cache/libtensorflow-microlite.a\n")
    variables = build.read_flags_mk(flags)
    assert variables == {"TFLM_CXX": "arm-none-eabi-g++",
                         "TFLM_CXXFLAGS": "-fno-rtti -DTF_LITE_STATIC_MEMORY '-DNAME=a b'",
                         "TFLM_LIB": "/cache/libtensorflow-microlite.a"}
    lib = build.TflmLibrary("m4", tmp_path, tmp_path, tmp_path / "lib.a", flags, variables, ())
    assert lib.split("TFLM_CXXFLAGS") == ["-fno-rtti", "-DTF_LITE_STATIC_MEMORY", "-DNAME=a b"]
    assert lib.split("TFLM_MISSING") == [] and lib.cxx == "arm-none-eabi-g++"
    monkeypatch.setenv("KS_TFLM_CACHE", str(tmp_path / "cache"))
    assert build.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("KS_TFLM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert build.cache_dir() == tmp_path / "xdg" / "keras-subnets" / "tflm"


def test_main_without_a_target_prints_its_usage(capsys):
    assert build.main([]) == 2
    assert "usage: python -m keras_subnets.firmware.build x86|m4|m7" in capsys.readouterr().err


def test_build_library_names_what_is_missing_before_running_make(tmp_path):
    with pytest.raises(build.TflmNotFoundError, match="is not a tflite-micro tree"):
        build.build_library("x86", tflm_root=tmp_path)
    with pytest.raises(ValueError, match="target must be one of"):
        build.build_library("riscv", tflm_root=tmp_path)
