# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Models that hold nested sub-networks."""

from keras_subnets.models.subnet_model import SubnetModel

__all__ = ["SubnetModel"]
