# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Flash per object and per family from a small GNU ld map written here (sizes summed by hand)."""

import pytest

from keras_subnets.firmware import size

KS = "/cache/ks-1/libks_tflm.a"
TFLM = "/cache/gen-m4/lib/libtensorflow-microlite.a"

MAP = f"""Archive member included to satisfy reference by file (symbol)

{KS}(ks_op.o)          /cache/apps/1/main.o (KsRegister)

Memory Configuration

Name             Origin             Length             Attributes
FLASH            0x00000000         0x00400000         xr
RAM              0x20000000         0x00400000         xrw

Linker script and memory map

LOAD /cache/apps/1/main.o

.text           0x00000000      0x538
 *(.vectors)
 .vectors       0x00000000       0x40 /cache/apps/1/startup.o
                0x00000000                g_vectors
 .text.main     0x00000040       0x30 /cache/apps/1/main.o
                0x00000040                main
 .text.ks_fully_connected_s8_unstructured_rows
                0x00000070      0x120 {KS}(ks_fully_connected_s8.o)
                0x00000070                ks_fully_connected_s8
 .text.KsEval   0x00000190       0x80 {KS}(ks_op.o)
 .text.ks_fc_f32
                0x00000210       0x64 {KS}(ks_fully_connected_f32.o)
 .text.dense    0x00000274       0x48 {KS}(ks_dense_conv_s8.o)
 .text.plan     0x000002bc       0x10 {KS}(ks_plan_conv.o)
 *fill*         0x000002cc        0x4
 .text.Eval     0x000002d0       0xa0 {TFLM}(conv.o)
 .text.Common   0x00000370       0x20 {TFLM}(conv_common.o)
 .text.Invoke   0x00000390      0x100 {TFLM}(micro_interpreter.o)
 .text.arm_convolve_s8
                0x00000490       0x90 {TFLM}(arm_convolve_s8.o)
 .text.memcpy   0x00000520       0x18 /usr/lib/arm-none-eabi/newlib/thumb/libc_nano.a(lib_a-memcpy.o)
 .text.empty    0x00000538        0x0 /cache/apps/1/main.o

.rodata         0x00000540      0x1f8
 .rodata.g_model
                0x00000540      0x1f0 /cache/apps/1/model/model_data.o
 .rodata.str    0x00000730        0x8 /cache/apps/1/main.o

.ARM.exidx      0x00000740        0x8
 .ARM.exidx     0x00000740        0x8 {TFLM}(micro_interpreter.o)

.data           0x20000000       0x10 load address 0x00000748
 .data.g_state  0x20000000       0x10 /cache/apps/1/main.o

.bss            0x20000010     0x8000
 .bss.g_arena   0x20000010     0x8000 /cache/apps/1/main.o
 COMMON         0x20008010       0x40 {TFLM}(micro_interpreter.o)

.heap           0x20008050     0x1000
 .heap          0x20008050     0x1000 /cache/apps/1/startup.o

/DISCARD/
 .comment       0x00000000       0x2d /cache/apps/1/main.o
OUTPUT(/cache/apps/1/firmware.elf elf32-littlearm)
"""


@pytest.fixture
def map_file(tmp_path):
    path = tmp_path / "firmware.map"
    path.write_text(MAP)
    return path


def test_flash_per_object_counts_flash_sections_only(map_file):
    got = size.sizes_by_object(map_file)
    assert got == {
        "/cache/apps/1/startup.o": 0x40,  # not its .heap reserve
        "/cache/apps/1/main.o": 0x30 + 0x8 + 0x10,  # .text, .rodata and .data's initial values; not .bss
        f"{KS}(ks_fully_connected_s8.o)": 0x120,  # name on one line, address, size and object on the next
        f"{KS}(ks_op.o)": 0x80,
        f"{KS}(ks_fully_connected_f32.o)": 0x64,
        f"{KS}(ks_dense_conv_s8.o)": 0x48,
        f"{KS}(ks_plan_conv.o)": 0x10,
        f"{TFLM}(conv.o)": 0xA0,
        f"{TFLM}(conv_common.o)": 0x20,
        f"{TFLM}(micro_interpreter.o)": 0x100 + 0x8,  # .text and .ARM.exidx; not its COMMON (RAM)
        f"{TFLM}(arm_convolve_s8.o)": 0x90,
        "/usr/lib/arm-none-eabi/newlib/thumb/libc_nano.a(lib_a-memcpy.o)": 0x18,
        "/cache/apps/1/model/model_data.o": 0x1F0,
    }


def test_families(map_file):
    assert size.family(f"{KS}(ks_op.o)") == "keras-subnets: TFLM glue (options, Prepare, Eval)"
    assert size.family(f"{KS}(ks_fully_connected_f32.o)") == "keras-subnets: float32 kernels"
    assert size.family(f"{KS}(ks_dense_conv_s8.o)") == "keras-subnets: dense kernels (densest level)"
    assert size.family(f"{KS}(ks_plan_conv.o)") == "keras-subnets: validation, plans, governor"
    assert size.family(f"{KS}(ks_fully_connected_s8.o)") == "keras-subnets: int8 sparse kernels"
    assert size.family(f"{TFLM}(arm_convolve_s8.o)") == "CMSIS-NN"
    assert size.family("/cache/apps/1/model/model_data.o") == "model (.tflite array)"
    assert size.family("/cache/apps/1/startup.o") == "application + start-up"
    assert size.family("/usr/lib/gcc/arm-none-eabi/13/thumb/libgcc.a(_udivsi3.o)").startswith("C/C++ runtime")


def test_flash_per_family_with_and_without_the_kernel_list(map_file):
    families = size.sizes_by_family(map_file, tflm_kernels={"conv"})
    assert families["TFLM kernel: conv"] == 0xA0 + 0x20  # conv.o and conv_common.o
    assert families["TFLM: interpreter core"] == 0x108
    assert families["application + start-up"] == 0x40 + 0x48
    assert list(families.values()) == sorted(families.values(), reverse=True)
    merged = size.sizes_by_family(map_file)
    assert merged["TFLM: interpreter core and kernels"] == 0xA0 + 0x20 + 0x108
    assert sum(merged.values()) == sum(families.values()) == sum(size.sizes_by_object(map_file).values())


def test_a_file_that_is_not_a_map_is_named(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(ValueError, match="notes.txt is not a GNU ld map file"):
        size.sizes_by_object(path)
