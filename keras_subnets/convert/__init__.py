"""Conversion to one TFLite flatbuffer holding every level, and back to builtins."""

from keras_subnets.convert.converter import ConversionError, convert, convert_file, read_levels
from keras_subnets.convert.densify import densify
from keras_subnets.convert.export import fold_plan, plain_model

__all__ = ["ConversionError", "convert", "convert_file", "densify", "fold_plan", "plain_model", "read_levels"]
