# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Loading ``.keras`` files that hold keras-subnets classes, with clear errors.

Keras finds our layers and models through its registry of serializable
classes, which ``import keras_subnets`` fills. Loaded without that import, a
file fails with a few kilobytes of config dump; `load_model` and
`explain_load_error` say what is wrong in one line instead.
"""

from __future__ import annotations

import json
import os
import re
import zipfile

import keras

_PACKAGE = "keras_subnets"


def registered_names(path: str | os.PathLike) -> list[str]:
    """The keras-subnets classes a ``.keras`` file's config names, sorted.

    Args:
        path: a ``.keras`` zip file.

    Returns:
        Class names such as ``["SubnetDense", "SubnetModel"]``; empty when the
        file holds none of ours or cannot be read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    found = set()

    def visit(node) -> None:
        if isinstance(node, dict):
            registered = node.get("registered_name")
            if isinstance(registered, str) and registered.startswith(_PACKAGE + ">"):
                found.add(registered.split(">", 1)[1])
            elif str(node.get("module", "")).startswith(_PACKAGE) and isinstance(node.get("class_name"), str):
                found.add(node["class_name"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(config)
    return sorted(found)


def _unknown_class(error: BaseException) -> str | None:
    match = re.search(r"Could not locate (?:class|function) '([^']+)'", str(error))
    return match.group(1) if match else None


def explain_load_error(path: str | os.PathLike, error: BaseException) -> str | None:
    """One line explaining why Keras could not load ``path``, or ``None``.

    Recognises a file holding keras-subnets classes that this process has not
    registered: either ``keras_subnets`` was not imported before
    `keras.saving.load_model`, or the installed version lacks the class.

    Args:
        path: the file that failed to load.
        error: the exception Keras raised.
    """
    missing = _unknown_class(error)
    ours = registered_names(path)
    if missing is None or missing not in ours:
        return None
    # This module imports the package: if the class is registered now, it
    # was not when Keras looked for it.
    if f"{_PACKAGE}>{missing}" in keras.saving.get_custom_objects():
        return (f"'{path}' holds keras-subnets classes ({', '.join(ours)}): run `import keras_subnets` "
                "before keras.saving.load_model (or use keras_subnets.load_model)")
    return (f"'{path}' uses class '{missing}', which the installed keras_subnets does not define "
            "(a file written by another version?)")


def load_model(path: str | os.PathLike, **kwargs) -> keras.Model:
    """`keras.saving.load_model` with one clear line for each usual failure.

    Args:
        path: a ``.keras`` file.
        **kwargs: passed to `keras.saving.load_model`.

    Returns:
        The model.

    Raises:
        ValueError: the file is missing, is not a ``.keras`` zip file, or
            names a class keras-subnets does not define; the message names
            the file.
    """
    if not os.path.exists(path):
        raise ValueError(f"'{path}': no such file")
    if str(path).endswith(".keras") and not zipfile.is_zipfile(path):
        raise ValueError(f"'{path}' is not a .keras zip file (model.save('model.keras') writes one)")
    try:
        return keras.saving.load_model(path, **kwargs)
    except (TypeError, ValueError) as error:
        hint = explain_load_error(path, error)
        if hint is None:
            raise
        raise ValueError(hint) from None
