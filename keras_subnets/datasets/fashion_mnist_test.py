# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from keras_subnets.datasets import fashion_mnist

REAL = Path(fashion_mnist.DEFAULT_PATH)
needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason="Debian package dataset-fashion-mnist is not installed"
)


@needs_real
def test_loads_the_real_files():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.array_equal(np.bincount(y_train), np.full(10, 6000))
    assert np.array_equal(np.bincount(y_test), np.full(10, 1000))
    assert 60 < x_train.mean() < 90  # real images, not zeros


def _copy(tmp_path):
    for name in REAL.iterdir():
        shutil.copy(name, tmp_path / name.name)
    return tmp_path


@needs_real
def test_environment_variable_and_uncompressed_files(tmp_path, monkeypatch):
    folder = _copy(tmp_path)
    plain = folder / "t10k-labels-idx1-ubyte"
    plain.write_bytes(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(folder))
    (_, _), (_, y_test) = fashion_mnist.load_data()
    assert y_test.shape == (10000,)


def test_missing_folder_names_the_debian_package(tmp_path):
    with pytest.raises(fashion_mnist.DatasetError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist.load_data(tmp_path / "nowhere")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(fashion_mnist.DatasetError, match="train-images-idx3-ubyte"):
        fashion_mnist.load_data(tmp_path)


@needs_real
@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:1000], "truncated"),
    (lambda b: b"\x00\x00\x08\x01" + b[4:], "magic"),
    (lambda b: b[:4] + (59999).to_bytes(4, "big") + b[8:], "shape"),
])
def test_corrupt_files_are_reported_with_their_name(tmp_path, damage, message):
    folder = _copy(tmp_path)
    target = folder / "train-images-idx3-ubyte.gz"
    target.write_bytes(gzip.compress(damage(gzip.decompress(target.read_bytes()))))
    with pytest.raises(fashion_mnist.DatasetError, match=message) as err:
        fashion_mnist.load_data(folder)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_not_gzip_is_reported(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(fashion_mnist.DatasetError, match="cannot read"):
        fashion_mnist.load_data(tmp_path)
