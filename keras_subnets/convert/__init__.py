# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Conversion to one TFLite flatbuffer holding every level, and back to builtins."""

from keras_subnets.convert.converter import ConversionError, convert, convert_file, describe_operators, read_levels
from keras_subnets.convert.densify import densify
from keras_subnets.convert.export import fold_plan, plain_model

__all__ = ["ConversionError", "convert", "convert_file", "densify", "describe_operators", "fold_plan", "plain_model",
           "read_levels"]
