# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

from keras_subnets.variables import copy_into

# JAX's jitted steps donate their argument buffers: a target that shares the source's array deletes it.
_DONATION = """
import importlib.util, sys
import jax, keras, numpy as np
spec = importlib.util.spec_from_file_location("variables", sys.argv[1])
variables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(variables)
source = keras.Variable(np.arange(6, dtype="float32").reshape(2, 3))
target = keras.Variable(np.zeros((2, 3), "float32"))
variables.copy_into(target, source)
jax.jit(lambda a: a + 1, donate_argnums=0)(target.value)
print(float(np.asarray(source.value).sum()))
"""


def test_the_copy_has_the_value_and_not_the_storage():
    source = keras.Variable(np.arange(6, dtype="float32").reshape(2, 3))
    target = keras.Variable(np.zeros((2, 3), "float32"))
    copy_into(target, source)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(target), np.arange(6).reshape(2, 3))
    source.assign(np.full((2, 3), 7.0, "float32"))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(target), np.arange(6).reshape(2, 3))
    copy_into(target, keras.ops.ones((2, 3)))  # a tensor works as well as a variable
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(target), np.ones((2, 3)))


def test_on_jax_the_source_survives_a_step_that_donates_the_copy():
    """The bug copy_into exists for: ``target.assign(source)`` on JAX shares the array, and a jitted
    step donating the target's buffer deletes the source's ("Array has been deleted")."""
    module = Path(__file__).with_name("variables.py")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", _DONATION, str(module)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "15.0"
