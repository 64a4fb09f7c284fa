# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The arm-none-eabi-gcc command that links a bare-metal measuring image for QEMU's MPS2 boards.

The kernel images (`kernel_image`) and the dense-layer images (`dense_image`)
are linked the same way: the Cortex-M runtime of `tflm_ops/cortex_m`
(start-up, semihosting, the counting stubs), its linker script, newlib-nano.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# Hard-float ABI as TFLM's cortex_m_generic builds (cortex-m4+fp / cortex-m7+fp).
ARCH = {
    "m4": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "m7": ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"],
}


def link_image_command(
    cpu: str,
    elf: Path,
    app: Path,
    cortex_m_dir: Path,
    includes: Iterable[str],
    objects: Iterable[Path | str],
    std: str = "c11",
) -> list[str]:
    """The command compiling ``app`` with ``objects`` into ``elf``.

    Args:
        cpu: ``m4`` or ``m7``.
        elf: the image to write.
        app: the C file holding ``main()``.
        cortex_m_dir: the ``tflm_ops/cortex_m`` folder whose runtime and
            linker script are linked (a checkout's own, for A/B images).
        includes: ``-I`` / ``-D`` flags.
        objects: further sources, objects and libraries, linked in order.
        std: the C standard of ``app`` and of C sources in ``objects``.

    Raises:
        ValueError: for a CPU other than ``m4`` / ``m7``.
    """
    if cpu not in ARCH:
        raise ValueError(f"cpu '{cpu}': the measuring images are built for {sorted(ARCH)}")
    runtime = [cortex_m_dir / "src" / name for name in ("startup.c", "semihost.c", "ks_bench.S")]
    return [
        "arm-none-eabi-gcc",
        *ARCH[cpu],
        "-O2",
        f"-std={std}",
        "-ffunction-sections",
        "-fdata-sections",
        *includes,
        "-nostartfiles",
        "--specs=nano.specs",
        f"-T{cortex_m_dir / 'ld' / 'mps2.ld'}",
        "-Wl,--gc-sections",
        "-o",
        str(elf),
        str(app),
        *map(str, runtime),
        *map(str, objects),
        "-lm",
    ]
