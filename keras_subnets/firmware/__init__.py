# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Real TensorFlow Lite Micro firmware for converted files: build, run, measure.

- `build`: TFLM's ``libtensorflow-microlite.a`` for x86 / Cortex-M4 / Cortex-M7
  from a user's TFLM tree, cached outside the clone;
- `runner`: the whole-model harness (``tflm_ops/firmware``) built around one
  ``.tflite`` file and run natively or under QEMU with exact instruction counts;
- `profile`: the Python API behind ``keras-subnets profile``.
"""
