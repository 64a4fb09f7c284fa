# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""The error every conversion step raises."""


class ConversionError(ValueError):
    """The model cannot be expressed in the nested flatbuffer format."""
