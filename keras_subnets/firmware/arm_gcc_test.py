# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import shutil
import subprocess
from pathlib import Path

import pytest

from keras_subnets.firmware import arm_gcc, qemu

CM = Path(__file__).resolve().parents[2] / "tflm_ops" / "cortex_m"


def test_command_links_the_runtime_and_script_of_the_given_tree(tmp_path):
    cmd = arm_gcc.link_image_command("m7", tmp_path / "a.elf", tmp_path / "a.c", CM, ["-DX=1"], ["lib.a"], std="c99")
    assert cmd[:5] == ["arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"]
    assert "-std=c99" in cmd and f"-T{CM / 'ld' / 'mps2.ld'}" in cmd
    # The application precedes the runtime, and the libraries come last before libm, as ld resolves left to right.
    app, startup, lib = cmd.index(str(tmp_path / "a.c")), cmd.index(str(CM / "src" / "startup.c")), cmd.index("lib.a")
    assert app < startup < lib == len(cmd) - 2 and cmd[-1] == "-lm"
    assert cmd[cmd.index("-o") + 1] == str(tmp_path / "a.elf")


def test_unknown_cpu_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="cpu 'm33'"):
        arm_gcc.link_image_command("m33", tmp_path / "a.elf", tmp_path / "a.c", CM, [], [])


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm (./run installs them)")
def test_linked_image_runs_on_qemu_and_returns_main_s_value(tmp_path):
    app = tmp_path / "app.c"
    app.write_text('#include <stdio.h>\nint main(void) { printf("hello %d\\n", 6 * 7); return 3; }\n')
    elf = tmp_path / "app.elf"
    cmd = arm_gcc.link_image_command("m4", elf, app, CM, [f"-I{CM / 'include'}"], [])
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = qemu.run_image(elf, cpu="m4", count=False, timeout=60)
    assert result.exit_code == 3 and "hello 42" in result.stdout
