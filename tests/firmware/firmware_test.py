# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Real TFLite Micro firmware (tflm_ops/firmware) against the tflite-micro wheel, on x86 and Cortex-M4/M7.

Default run: x86 (reference kernels) and Cortex-M4 (CMSIS-NN, QEMU) with the
quickstart CNN; `-m slow`: every mask kind on x86, M4 and M7, and DS-CNN S.
TFLM builds are cached (~/.cache/keras-subnets/tflm), so only a first run pays them.
"""

import numpy as np
import pytest
from firmware_models import KINDS, LEVELS, cached_file, require_target

from keras_subnets import tflm
from keras_subnets.convert import densify
from keras_subnets.convert import flatbuffer as fb
from keras_subnets.convert.reference import run_interpreter
from keras_subnets.firmware import build, modelfile, runner

L = len(LEVELS)


def wheel_levels(blob: bytes, x: np.ndarray) -> dict[int, np.ndarray]:
    return tflm.run_levels(blob, x)


def check_bit_exact(res: runner.FirmwareResult, expected: dict[int, np.ndarray], what: str) -> None:
    assert sorted(res.outputs) == sorted(expected), what
    for level, ref in expected.items():
        assert res.outputs[level].dtype == np.int8
        np.testing.assert_array_equal(res.outputs[level], ref, err_msg=f"{what}: level {level}")
    assert not np.array_equal(res.outputs[0], res.outputs[L - 1]), f"{what}: levels should differ"


def check_counts(res: runner.FirmwareResult, blob: bytes, what: str) -> None:
    """Exact counts exist for every Invoke, the profile names the graph's operators in order and
    adds up to the whole Invoke (its only extra is the interpreter's loop)."""
    model = fb.load(blob)
    graph_ops = [fb.op_name(model, op) for op in model.subgraphs[0].operators]
    for level in range(L):
        counts = res.invoke_instructions[level]
        assert len(counts) == 2 and min(counts) > 10_000, (what, level, counts)
        names = [name for name, _ in res.profile[level]]
        assert names == graph_ops, (what, level)
        total = sum(count for _, count in res.profile[level])
        assert 0.98 * counts[0] < total < counts[0], (what, level, total, counts[0])
    densest, sparsest = res.invoke_instructions[L - 1][0], res.invoke_instructions[0][0]
    assert sparsest < densest, what


@pytest.mark.parametrize("target", ["x86", "m4"])
def test_quickstart_every_level_bit_exact_and_bad_level(target, tflm_root, images):
    """The quickstart CNN (unstructured) at every level equals the wheel bit for bit; an out-of-range
    level fails Invoke with the operator's message, and the interpreter still runs level 0 after it."""
    require_target(target)
    blob = cached_file("quickstart", "unstructured")
    res = runner.run(blob, target, images, probes=[L, -1, 0], profile=target != "x86")
    check_bit_exact(res, wheel_levels(blob, images), f"quickstart on {target}")
    assert [(level, status) for level, status, _ in res.probes] == [(L, 1), (-1, 1), (0, 0)]
    np.testing.assert_array_equal(res.probes[2][2][0], res.outputs[0][0])
    for bad in (L, -1):
        assert f"KS_CONV_2D: level {bad} is out of range: the 'subnet' input must be in [0, {L})" in res.messages
    assert 4_000 < res.arena_bytes < 64_000
    if target != "x86":
        check_counts(res, blob, target)
        assert len(blob) < res.flash_bytes < len(blob) + 400_000


def corrupt_rows(blob: bytes) -> bytes:
    from keras_subnets.convert import options

    model = fb.load(blob)
    op = next(op for name, op in fb.custom_ops(model) if name == "KS_FULLY_CONNECTED")
    opts = options.decode(op.customOptions)
    opts["rows"] = int(opts["rows"]) + 1
    op.customOptions = np.frombuffer(options.encode(opts), np.uint8)
    return fb.save(model)


@pytest.mark.parametrize("target", ["x86", "m4"])
def test_corrupted_file_is_refused_in_allocate_tensors(target, tflm_root, images):
    require_target(target)
    bad = corrupt_rows(cached_file("quickstart", "unstructured"))
    with pytest.raises(runner.FirmwareError, match=r"exited with 2 \(AllocateTensors failed\)") as info:
        runner.run(bad, target, images[:1])
    # Format v3: the densest level's dense tensor (input 8) no longer fits the options' rows.
    assert "KS_FULLY_CONNECTED: dense weights (input 8) of level 3 must be [11, 128]" in info.value.log
    assert "ks: invoke" not in info.value.log


def test_plain_densified_file_runs_on_stock_kernels(tflm_root, images):
    """A plain file (one level densified: CONV_2D, DEPTHWISE_CONV_2D, ...) runs on TFLM's own reference
    kernels exactly as in the wheel: the harness is not specific to the KS_* operators."""
    require_target("x86")
    plain = densify(cached_file("quickstart", "unstructured"), 1)
    assert not modelfile.ops_needed(plain).custom
    res = runner.run(plain, "x86", images)
    from tflite_micro.python.tflite_micro import runtime

    expected = run_interpreter(runtime.Interpreter.from_bytes(plain), images, dequantize=False)
    np.testing.assert_array_equal(res.outputs[0], expected)


def test_library_build_is_cached_and_keyed(tflm_root, tmp_path):
    require_target("x86")
    first = build.build_library("x86")
    again = build.build_library("x86")
    assert again.library == first.library and again.build_seconds == 0.0
    assert str(build.cache_dir()) in str(first.gendir) and str(first.gendir).find(build.tree_id(tflm_root)) > 0
    assert "-DTF_LITE_STATIC_MEMORY" in first.split("TFLM_CXXFLAGS")
    assert all(p.startswith("-I/") for p in first.split("TFLM_INCLUDES"))
    # A tree without its third-party downloads is refused up front, naming what is missing.
    fake = tmp_path / "tflite-micro"
    (fake / build.MAKEFILE).parent.mkdir(parents=True)
    (fake / build.MAKEFILE).write_text("")
    with pytest.raises(build.TflmNotFoundError, match=r"lacks .*downloads/\{flatbuffers,gemmlowp"):
        build.build_library("x86", tflm_root=fake)
    with pytest.raises(build.TflmNotFoundError, match="is not a tflite-micro tree"):
        build.build_library("x86", tflm_root=tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["x86", "m4", "m7"])
@pytest.mark.parametrize("kind", KINDS)
def test_quickstart_every_kind_bit_exact(kind, target, tflm_root, images):
    require_target(target)
    blob = cached_file("quickstart", kind)
    res = runner.run(blob, target, images, probes=[L, 0], profile=target != "x86")
    check_bit_exact(res, wheel_levels(blob, images), f"quickstart {kind} on {target}")
    assert [(level, status) for level, status, _ in res.probes] == [(L, 1), (0, 0)]
    if target != "x86":
        check_counts(res, blob, f"{kind} on {target}")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["x86", "m4", "m7"])
def test_ds_cnn_s_structured_bit_exact(target, tflm_root, images):
    require_target(target)
    blob = cached_file("ds_cnn_s", "structured")
    assert "LEAKY_RELU" in modelfile.ops_needed(blob).builtin
    res = runner.run(blob, target, images, profile=target != "x86")
    check_bit_exact(res, wheel_levels(blob, images), f"DS-CNN S on {target}")
    if target != "x86":
        check_counts(res, blob, f"DS-CNN S on {target}")


def test_float32_file_and_int8_only_builds(tflm_root, images):
    """A float32 file runs (close to the wheel); a firmware built with -DKS_NO_FLOAT32 refuses it in
    AllocateTensors, naming the reason."""
    require_target("x86")
    blob = cached_file("quickstart", "unstructured", "float32")
    res = runner.run(blob, "x86", images)
    for level, ref in wheel_levels(blob, images).items():
        assert res.outputs[level].dtype == np.float32
        np.testing.assert_allclose(res.outputs[level], ref, rtol=1e-5, atol=1e-6, err_msg=f"level {level}")
    with pytest.raises(runner.FirmwareError, match=r"AllocateTensors failed") as info:
        runner.run(blob, "x86", images, ks_defines=["-DKS_NO_FLOAT32"])
    assert "float32 operator, but this firmware was built with KS_NO_FLOAT32 (int8 only)" in info.value.log


@pytest.mark.slow
def test_int8_only_build_is_smaller_and_identical_on_m4(tflm_root, images):
    from keras_subnets.firmware import size

    require_target("m4")
    blob = cached_file("quickstart", "unstructured")
    full = runner.build_firmware(blob, "m4", images)
    lean = runner.build_firmware(blob, "m4", images, ks_defines=["-DKS_NO_FLOAT32"])
    a, b = runner.run_firmware(full), runner.run_firmware(lean)
    for level in a.outputs:
        np.testing.assert_array_equal(a.outputs[level], b.outputs[level])
    assert a.flash_bytes - b.flash_bytes > 8_000
    fam_full = size.sizes_by_family(full.elf.with_suffix(".map"))
    fam_lean = size.sizes_by_family(lean.elf.with_suffix(".map"))
    assert fam_full["keras-subnets: float32 kernels"] > 8_000 and "keras-subnets: float32 kernels" not in fam_lean
    assert abs(sum(fam_full.values()) - a.flash_bytes) < 0.01 * a.flash_bytes
    assert fam_full["model (.tflite array)"] >= len(blob)


def test_build_for_one_file_refuses_another_format(tflm_root, images):
    """A firmware built with the flags of a structured file (`firmware_defines`) runs it bit-exact and
    refuses an unstructured file in AllocateTensors, naming the format it lacks; one built for fully
    connected operators only refuses the CNN, naming the operator."""
    require_target("x86")
    structured = cached_file("quickstart", "structured")
    defines = modelfile.firmware_defines(structured)
    assert defines == ["-DKS_FORMATS=0x8", "-DKS_OPS=0x7", "-DKS_NO_FLOAT32"]
    res = runner.run(structured, "x86", images, ks_defines=defines)
    check_bit_exact(res, wheel_levels(structured, images), "quickstart structured, structured-only build")
    with pytest.raises(runner.FirmwareError, match=r"AllocateTensors failed") as info:
        runner.run(cached_file("quickstart", "unstructured"), "x86", images, ks_defines=defines)
    assert "weight format 'nested_csr', but this firmware was built without it (KS_FORMATS = 8)" in info.value.log
    with pytest.raises(runner.FirmwareError, match=r"AllocateTensors failed") as info:
        runner.run(structured, "x86", images, ks_defines=["-DKS_FORMATS=0x8", "-DKS_OPS=0x1"])
    assert "KS_CONV_2D: this firmware was built without the operator (KS_OPS = 1)" in info.value.log


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_build_for_the_file_is_smaller_and_identical_on_m4(kind, tflm_root, images):
    """Only the file's formats and operators (`firmware_defines`): every level as the full build gives it,
    and the objects only the left-out formats use are linked in the full image and gone from this one."""
    from keras_subnets.firmware import size

    require_target("m4")
    blob = cached_file("quickstart", kind)
    full = runner.build_firmware(blob, "m4", images, ks_defines=["-DKS_NO_FLOAT32"])
    trimmed = runner.build_firmware(blob, "m4", images, ks_defines=modelfile.firmware_defines(blob))
    a, b = runner.run_firmware(full), runner.run_firmware(trimmed)
    check_bit_exact(b, wheel_levels(blob, images), f"quickstart {kind}, trimmed build on m4")
    for level in a.outputs:
        np.testing.assert_array_equal(a.outputs[level], b.outputs[level])

    def ks_objects(fw) -> dict[str, int]:
        out = {}
        for obj, n in size.sizes_by_object(fw.elf.with_suffix(".map")).items():
            archive, member = size._member(obj)
            if archive == "libks_tflm.a":
                out[member.removesuffix(".o")] = out.get(member.removesuffix(".o"), 0) + n
        return out

    kept = {layer["format"] for layer in modelfile.describe(blob)["layers"]}
    # Objects that only a format's operators reference (the dispatch picks them by format).
    only_for = {"nested_csr": {"ks_validate_nested_csr"}, "nested_block": {"ks_validate_nested_block"},
                "row": {"ks_validate_row"},
                "structured": {"ks_validate_structured", "ks_structured_conv_s8",
                               "ks_structured_depthwise_conv_s8", "ks_structured_pointwise_s8"}}  # fmt: skip
    left_out = set().union(*(objs for fmt, objs in only_for.items() if fmt not in kept))
    if kept == {"structured"}:
        left_out.add("ks_sparse_conv_s8")  # the sparse formats' convolution loop
    in_full, in_trimmed = ks_objects(full), ks_objects(trimmed)
    assert left_out and left_out <= set(in_full), sorted(left_out - set(in_full))
    unused = sorted(left_out & set(in_trimmed))
    assert not unused, f"{kind}: linked although the file does not use them: {unused}"
    dropped = sum(in_full[o] for o in left_out)
    assert sum(in_trimmed.values()) <= sum(in_full.values()) - dropped, (in_trimmed, in_full)
