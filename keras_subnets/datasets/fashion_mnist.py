# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Fashion-MNIST from the IDX files of Debian's ``dataset-fashion-mnist``.

Nothing is downloaded: the files must be on disk (``apt-get install
dataset-fashion-mnist`` puts them in ``/usr/share/datasets/fashion-mnist``).
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

DEFAULT_PATH = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "KERAS_SUBNETS_FASHION_MNIST"
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}
_HINT = (
    "install the Debian package with `apt-get install dataset-fashion-mnist`, "
    f"or point {ENV_VAR} / path= at a folder holding the four IDX files"
)


class DatasetError(ValueError):
    """A data file is missing, unreadable or not what its name says."""


def _open(folder: Path, stem: str) -> tuple[bytes, Path]:
    for name in (stem + ".gz", stem):
        file = folder / name
        if file.is_file():
            try:
                raw = file.read_bytes()
                return (gzip.decompress(raw) if name.endswith(".gz") else raw), file
            except (OSError, EOFError, gzip.BadGzipFile) as err:
                raise DatasetError(f"cannot read {file}: {err}; {_HINT}") from None
    raise DatasetError(f"Fashion-MNIST file {stem}(.gz) not found in {folder}; {_HINT}")


def read_idx(data: bytes, file: Path, dims: int, count: int) -> np.ndarray:
    """Parses an IDX buffer of unsigned bytes and checks its header.

    Args:
        data: the decompressed file content.
        file: the file's path, for error messages.
        dims: expected number of dimensions (3 for images, 1 for labels).
        count: expected number of items.
    """
    if len(data) < 4 + 4 * dims:
        raise DatasetError(f"{file}: {len(data)} bytes is too short for an IDX header; {_HINT}")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim != dims:
        raise DatasetError(
            f"{file}: bad IDX magic number 0x{int.from_bytes(data[:4], 'big'):08x}, "
            f"expected 0x000008{dims:02x}; {_HINT}"
        )
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    expected = (count,) + ((28, 28) if dims == 3 else ())
    if shape != expected:
        raise DatasetError(f"{file}: shape {shape}, expected {expected}; {_HINT}")
    body = data[4 + 4 * dims:]
    if len(body) != int(np.prod(shape)):
        raise DatasetError(
            f"{file}: {len(body)} data bytes, expected {int(np.prod(shape))} (truncated?); {_HINT}"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def load_data(path: str | os.PathLike | None = None):
    """Loads Fashion-MNIST like ``keras.datasets.fashion_mnist.load_data()``.

    Args:
        path: folder holding the IDX files (gzipped or not); default
            ``$KERAS_SUBNETS_FASHION_MNIST`` or ``/usr/share/datasets/fashion-mnist``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 28, 28)``
        and uint8 labels ``(n,)``.

    Raises:
        DatasetError: when a file is missing, corrupt or of the wrong size,
            naming the file and the package to install.
    """
    folder = Path(path or os.environ.get(ENV_VAR) or DEFAULT_PATH)
    if not folder.is_dir():
        raise DatasetError(f"Fashion-MNIST folder {folder} does not exist; {_HINT}")
    out = []
    for split in ("train", "test"):
        images_stem, labels_stem, count = _FILES[split]
        images = read_idx(*_open(folder, images_stem), dims=3, count=count)
        labels = read_idx(*_open(folder, labels_stem), dims=1, count=count)
        if labels.max() > 9:
            raise DatasetError(f"{folder / labels_stem}: label {labels.max()} is not a class 0..9")
        out.append((images, labels))
    return tuple(out)
