# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Data sets read from local files (nothing is downloaded)."""

from keras_subnets.datasets import fashion_mnist

__all__ = ["fashion_mnist"]
