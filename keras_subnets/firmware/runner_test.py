# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`runner` without building firmware: the model spec of converted files, input quantization, the
generated run configuration, the image sizes of an ELF written here, and `run_firmware` parsing
the output of a stand-in x86 "firmware" (a script printing the harness's ``ks:`` lines)."""

import stat
import sys

import keras
import numpy as np
import pytest

import keras_subnets as ks
from keras_subnets.convert import convert, densify
from keras_subnets.firmware import build, modelfile, runner
from keras_subnets.firmware.qemu_test import SHF_ALLOC, SHT_NOBITS, SHT_PROGBITS, write_elf32


@pytest.fixture(scope="module")
def nested_file():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(6, activation="relu")(inputs)
    model = ks.nest(keras.Model(inputs, keras.layers.Dense(3)(hidden)), [0.5, 0.0])
    calibration = np.random.default_rng(0).normal(size=(16, 8)).astype("float32")
    return convert(model, calibration, quantize="int8", progress=False)


def test_model_spec_of_a_nested_and_a_plain_file(nested_file):
    spec = runner.model_spec(nested_file)
    assert spec.subnet_input == 1 and spec.num_levels == 2
    assert spec.input.dtype == np.int8 and spec.input.shape == (1, 8) and spec.input.nbytes == 8
    assert spec.input.scale > 0 and -128 <= spec.input.zero_point <= 127
    assert [(o.dtype, o.shape) for o in spec.outputs] == [(np.dtype(np.int8), (1, 3))]
    plain = runner.model_spec(densify(nested_file, 0))
    assert plain.subnet_input == -1 and plain.num_levels == 0 and plain.input.shape == (1, 8)


def test_a_subnet_input_without_a_level_table_is_refused(nested_file, monkeypatch):
    monkeypatch.setattr(modelfile, "level_table", lambda tflite: None)
    with pytest.raises(modelfile.ModelFileError, match="a `subnet` input but no keras_subnets.levels table"):
        runner.model_spec(nested_file)


def test_quantize_inputs():
    spec = runner.TensorSpec("image", np.dtype(np.int8), (1, 4), 0.5, -3)
    x = np.array([[0.0, 1.2, -70.0, 70.0], [0.26, -0.24, 0.74, 1.0]], "float32")
    want = np.clip(np.round(x / 0.5 - 3), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(runner.quantize_inputs(spec, x), want)
    np.testing.assert_array_equal(runner.quantize_inputs(spec, x[0]), want[:1])  # one sample, no batch axis
    raw = np.array([[1, -2, 3, -4]], np.int8)
    np.testing.assert_array_equal(runner.quantize_inputs(spec, raw), raw)  # int8 is passed through
    with pytest.raises(ValueError, match=r"inputs of shape \(5,\) do not match input 'image' \(1, 4\)"):
        runner.quantize_inputs(spec, np.zeros((2, 5), "float32"))


def _spec(outputs=((1, 3),)):
    return runner.ModelSpec(runner.TensorSpec("x", np.dtype(np.int8), (1, 4), 0.5, 0),
                            [runner.TensorSpec(f"y{i}", np.dtype(np.int8), s, 0.1, 0) for i, s in enumerate(outputs)],
                            1, 2)


def test_run_config_holds_the_samples_levels_and_probes():
    samples = np.array([[1, -1, 127, -128], [0, 2, 3, 4]], np.int8)
    text = runner.run_config(_spec(), samples, [0, 1], [5, 0], True, 4096)
    assert "#define KS_ARENA_BYTES 4096\n" in text
    body = text.split("ks_inputs[] = {")[1].split("}")[0]
    assert bytes(int(v) for v in body.split(",")) == samples.tobytes()
    for line in ("ks_input_bytes = 4;", "ks_num_samples = 2;", "ks_subnet_input = 1;",
                 "ks_levels[] = {0,1};", "ks_num_levels = 2;", "ks_probes[] = {5,0};", "ks_num_probes = 2;",
                 "ks_profile = 1;"):  # fmt: skip
        assert line in text, line
    assert "ks_probes[] = {0};" in runner.run_config(_spec(), samples, [0], [], False, 1)  # C has no empty arrays


def test_elf_sizes_count_flash_and_static_ram(tmp_path):
    elf = write_elf32(tmp_path / "fw.elf", [
        (".text", SHT_PROGBITS, SHF_ALLOC | 4, 0x0, b"\0" * 100),
        (".rodata", SHT_PROGBITS, SHF_ALLOC, 0x64, b"\0" * 20),
        (".data", SHT_PROGBITS, SHF_ALLOC | 1, 0x20000000, b"\0" * 8),  # flash (initial values) and RAM
        (".bss", SHT_NOBITS, SHF_ALLOC | 1, 0x20000008, 4000),
        (".heap", SHT_NOBITS, SHF_ALLOC | 1, 0x20001000, 65536),  # reserves: not counted
        (".stack", SHT_NOBITS, SHF_ALLOC | 1, 0x20011000, 8192),
        (".comment", SHT_PROGBITS, 0, 0, b"GCC 13\0"),  # not loaded
    ])
    assert runner.elf_sizes(elf) == (100 + 20 + 8, 8 + 4000)


def _hex(a):
    return np.asarray(a, np.int8).tobytes().hex()


def _firmware(tmp_path, stdout, code=0, outputs=((1, 3),)):
    script = tmp_path / "firmware.elf"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({stdout!r})\nsys.exit({code})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return runner.Firmware(script, "x86", _spec(outputs), [0, 1], [7, 1], 2, True, 1000, None)


def test_run_firmware_parses_outputs_probes_and_profile(tmp_path):
    y = {(0, 0): [1, 2, 3], (0, 1): [-1, -2, -3], (1, 0): [4, 5, 6], (1, 1): [127, -128, 0]}
    lines = ["ks: model arena_used_bytes=2048 inputs=2 input_bytes=4 outputs=1"]
    lines += [f"ks: invoke level={lv} sample={s} status=0 out={_hex(v)}" for (lv, s), v in y.items()]
    lines += ["KS_FULLY_CONNECTED: level 7 is out of range", "ks: probe level=7 status=1",
              f"ks: probe level=1 status=0 out={_hex([9, 8, 7])}",
              "ks: profile level=0 ops=KS_FULLY_CONNECTED,KS_FULLY_CONNECTED", "ks: profile level=1 ops=", "ks: done"]
    res = runner.run_firmware(_firmware(tmp_path, "\n".join(lines) + "\n"))
    assert res.exit_code == 0 and res.arena_bytes == 2048 and res.model_bytes == 1000
    assert res.flash_bytes is None and res.invoke_instructions == {}  # natively: no counts
    for level in (0, 1):
        np.testing.assert_array_equal(res.outputs[level], [y[level, 0], y[level, 1]])
        assert res.outputs[level].dtype == np.int8
    assert res.statuses == {0: [0, 0], 1: [0, 0]}
    assert res.probes[0] == (7, 1, None)
    assert res.probes[1][:2] == (1, 0) and res.probes[1][2][0].tolist() == [9, 8, 7]
    assert res.profile == {0: [("KS_FULLY_CONNECTED", None)] * 2, 1: []}
    assert res.messages == ["KS_FULLY_CONNECTED: level 7 is out of range"]


def test_run_firmware_reports_failures_with_their_meaning(tmp_path):
    with pytest.raises(runner.FirmwareError, match=r"exited with 2 \(AllocateTensors failed\): arena too small"):
        runner.run_firmware(_firmware(tmp_path, "arena too small\nks: error AllocateTensors failed\n", code=2))
    with pytest.raises(runner.FirmwareError, match="stopped early"):
        runner.run_firmware(_firmware(tmp_path, "ks: model arena_used_bytes=1\n"))
    two = f"ks: invoke level=0 sample=0 status=0 out={_hex([1, 2, 3])},{_hex([4])}\nks: done\n"
    with pytest.raises(runner.FirmwareError, match="firmware printed 2 outputs, the model has 1"):
        runner.run_firmware(_firmware(tmp_path, two))
    res = runner.run_firmware(_firmware(tmp_path, two, outputs=((1, 3), (1, 1))))
    assert [o.tolist() for o in res.all_outputs[0][0]] == [[1, 2, 3], [4]]


def test_running_on_cortex_m_needs_qemu(tmp_path, monkeypatch, nested_file):
    monkeypatch.setenv("KS_QEMU", str(tmp_path / "no-qemu"))
    with pytest.raises(build.ToolchainMissingError, match="needs qemu-system-arm"):
        runner.run(nested_file, "m4", np.zeros((1, 8), "float32"))
    with pytest.raises(ValueError, match="target must be one of"):
        runner.run(nested_file, "m0", np.zeros((1, 8), "float32"))
