// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Registrations of the keras-subnets custom operators (no resolver needed;
 * ks_custom_ops.h adds them to a MicroMutableOpResolver).
 */
#ifndef KS_REGISTRATIONS_H_
#define KS_REGISTRATIONS_H_

#include "tensorflow/lite/micro/micro_common.h"

namespace keras_subnets {

// Custom codes written by keras_subnets.convert.
constexpr char kFullyConnectedName[] = "KS_FULLY_CONNECTED";
constexpr char kConv2DName[] = "KS_CONV_2D";
constexpr char kDepthwiseConv2DName[] = "KS_DEPTHWISE_CONV_2D";

TFLMRegistration* Register_KS_FULLY_CONNECTED();
TFLMRegistration* Register_KS_CONV_2D();
TFLMRegistration* Register_KS_DEPTHWISE_CONV_2D();

}  // namespace keras_subnets

#endif  // KS_REGISTRATIONS_H_
