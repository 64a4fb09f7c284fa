// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * keras-subnets custom operators for TensorFlow Lite Micro.
 *
 *   static tflite::MicroMutableOpResolver<8> resolver;
 *   keras_subnets::AddCustomOps(resolver);   // KS_FULLY_CONNECTED, KS_CONV_2D,
 *                                            // KS_DEPTHWISE_CONV_2D
 *   resolver.AddSoftmax(); ...               // the model's builtin ops
 *
 * Each operator reads the level to run from the model's `subnet` input at
 * every Invoke (docs/format.md §12).  See tflm_ops/README.md.
 */
#ifndef KS_CUSTOM_OPS_H_
#define KS_CUSTOM_OPS_H_

#include "tensorflow/lite/c/common.h"
#include "ks_registrations.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace keras_subnets {

// Adds the three operators; needs 3 free slots in the resolver.  Fails
// (after TFLM's own MicroPrintf) when a name is already registered or the
// resolver is full.
template <unsigned int tOpCount>
TfLiteStatus AddCustomOps(tflite::MicroMutableOpResolver<tOpCount>& resolver) {
  if (resolver.AddCustom(kFullyConnectedName, Register_KS_FULLY_CONNECTED()) != kTfLiteOk ||
      resolver.AddCustom(kConv2DName, Register_KS_CONV_2D()) != kTfLiteOk ||
      resolver.AddCustom(kDepthwiseConv2DName, Register_KS_DEPTHWISE_CONV_2D()) != kTfLiteOk) {
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace keras_subnets

#endif  // KS_CUSTOM_OPS_H_
