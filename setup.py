# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""keras-subnets: nested sub-networks for Keras 3 and TensorFlow Lite Micro."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="keras-subnets",
    version="0.1.0",
    description=(
        "One Keras model holding several nested sub-networks, trained jointly and "
        "deployed to TensorFlow Lite Micro with level-switching custom kernels"
    ),
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["keras_subnets", "keras_subnets.*"]),
    # The console script's launcher: outside the package so that --help does
    # not import Keras and TensorFlow (see keras_subnets_cli.py).
    py_modules=["keras_subnets_cli"],
    install_requires=[
        # Versions known to work together (tested in CI).
        "tensorflow==2.21.0",
        "keras==3.15.1",
        "numpy>=2.0,<2.5",
        "scipy==1.17.1",
        "tflite-micro==0.dev20261023182759",
        "absl-py>=1.4",
        "flatbuffers>=24.3",
    ],
    extras_require={
        "dev": [
            "pytest>=8",
            # ./run test runs one pytest worker per core: CI has 2 cores and a time budget.
            "pytest-xdist==3.8.0",
            "ruff>=0.6",
            "matplotlib>=3.8",
            "nbclient>=0.10",
            "nbformat>=5.10",
            "ipykernel>=6.29",
            # keras.callbacks.TensorBoard: per-level curves (level_<k>_loss, ...).
            "tensorboard==2.21.0",
            # The other Keras backends, for the backend tests (CPU builds).
            "jax[cpu]==0.10.2",
            "torch==2.13.0",
            # Baselines for benchmarks only; never imported by the library.
            "tf-keras==2.21.0",
            "tensorflow-model-optimization==0.8.1",
        ],
    },
    entry_points={"console_scripts": ["keras-subnets=keras_subnets_cli:run"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
