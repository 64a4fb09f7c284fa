# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Copying weights between models without sharing buffers."""

from __future__ import annotations

import keras


def copy_into(target, source) -> None:
    """Assigns ``source``'s value to the variable ``target`` as a copy.

    On the JAX backend ``target.assign(source_variable)`` stores the very
    array that backs ``source``; ``fit`` then donates that buffer to its
    jitted step, and the model ``source`` belongs to (the user's base model,
    an LCS subspace) fails afterwards with "Array has been deleted". A numpy
    copy gives the new variable its own buffer on every backend.

    Args:
        target: a Keras variable.
        source: a Keras variable or tensor of the same shape.
    """
    target.assign(keras.ops.convert_to_numpy(source))
