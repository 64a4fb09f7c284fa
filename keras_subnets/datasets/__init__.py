"""Data sets read from local files (nothing is downloaded)."""

from keras_subnets.datasets import fashion_mnist

__all__ = ["fashion_mnist"]
