# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Measurement scripts whose results go to docs/benchmarks.md.

Run each from the repository root as a module, e.g. ``python -m benchmarks.storage --write``.
"""
