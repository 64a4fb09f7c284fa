"""Models that hold nested sub-networks."""

from keras_subnets.models.subnet_model import SubnetModel

__all__ = ["SubnetModel"]
