# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The firmware developer's paths of tflm_ops/README.md, built and run: the README example
(tflm_ops/tflm/examples/main.cc) with make on Cortex-M4 (QEMU), and with CMake on the host
through tflm_ops/firmware/keras_subnets_tflm.cmake."""

import shutil
import subprocess

import pytest
from firmware_models import LEVELS, cached_file, require_target

from keras_subnets.firmware import build, modelfile, runner

EXAMPLE = build.REPO_ROOT / "tflm_ops" / "tflm" / "examples" / "main.cc"
L = len(LEVELS)


def check_example_output(text: str) -> None:
    for level in range(L):
        assert f"level {level}: class 0 score" in text, text[-3000:]
    assert f"KS_CONV_2D: level {L} is out of range" in text
    assert f"level {L}: Invoke failed" in text


def test_readme_example_with_make_on_cortex_m4(tflm_root, images):
    require_target("m4")
    fw = runner.build_firmware(cached_file("quickstart", "unstructured"), "m4", images[:1], app_src=EXAMPLE)
    rq = runner._run_qemu_module()
    res = rq.run_image(fw.elf, cpu="m4", count=False, timeout=120)
    assert res.exit_code == 0, res.stdout[-3000:]
    check_example_output(res.stdout)


def test_readme_example_with_cmake_on_the_host(tflm_root, tmp_path):
    require_target("x86")
    if shutil.which("cmake") is None:
        pytest.skip("the CMake path needs cmake (apt-get install cmake)")
    lib = build.build_library("x86")
    source, header = modelfile.export_c(cached_file("quickstart", "unstructured"), "g_model", "model_data.h")
    (tmp_path / "model_data.cc").write_text(source)
    (tmp_path / "model_data.h").write_text(header)
    includes = ";".join(flag[2:] for flag in lib.split("TFLM_INCLUDES"))
    defines = ";".join(flag[2:] for flag in lib.split("TFLM_CXXFLAGS") if flag.startswith("-D"))
    (tmp_path / "CMakeLists.txt").write_text(f"""
cmake_minimum_required(VERSION 3.13)
project(ks_example C CXX)
add_library(tflm STATIC IMPORTED)
set_target_properties(tflm PROPERTIES IMPORTED_LOCATION "{lib.library}"
  INTERFACE_INCLUDE_DIRECTORIES "{includes}" INTERFACE_COMPILE_DEFINITIONS "{defines}")
set(KS_TFLM_TARGET tflm)
include("{build.FIRMWARE_DIR / 'keras_subnets_tflm.cmake'}")
add_executable(example "{EXAMPLE}" model_data.cc)
target_include_directories(example PRIVATE "{tmp_path}")
target_compile_options(example PRIVATE -fno-exceptions -fno-rtti)
target_link_libraries(example PRIVATE keras_subnets_tflm tflm m)
""")
    out = tmp_path / "build"
    for cmd in (["cmake", "-S", str(tmp_path), "-B", str(out), "-DCMAKE_BUILD_TYPE=Release"],
                ["cmake", "--build", str(out), "-j2"]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    done = subprocess.run([str(out / "example")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    check_example_output(done.stdout + done.stderr)
