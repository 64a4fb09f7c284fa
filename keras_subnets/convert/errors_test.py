# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`ConversionError`: one class for every conversion step, and still a ValueError for older callers."""

import keras
import pytest

from keras_subnets import convert as convert_package
from keras_subnets.convert import errors


def test_conversion_error_is_the_packages_and_a_value_error():
    assert convert_package.ConversionError is errors.ConversionError
    assert issubclass(errors.ConversionError, ValueError)


def test_the_converter_raises_it_and_a_value_error_handler_catches_it():
    inputs = keras.Input((4,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(errors.ConversionError, match="no sub-network layer"):
        convert_package.convert(plain, quantize="float32", progress=False)
    try:
        convert_package.convert(plain, quantize="int4", progress=False)
    except ValueError as err:  # what callers written before the class existed catch
        assert type(err) is errors.ConversionError
    else:
        raise AssertionError("convert() accepted quantize='int4'")
