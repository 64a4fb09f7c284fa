// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * KS_DEPTHWISE_CONV_2D: TFLM registration.  Parsing, validation and the kernel call
 * live in ks_op.cc (shared with the tflite-micro wheel adapter in
 * tflm_ops/host/); this file binds them to the public TFLM API.
 */
#include "ks_kernel_glue.h"
#include "ks_registrations.h"
#include "ks_tflm_api.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"

namespace keras_subnets {
namespace {

using Glue = KernelGlue<TflmApi, OpKind::kDepthwiseConv2D>;

void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  return Glue::Init(context, buffer, length);
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  return Glue::Prepare(context, node);
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  return Glue::Eval(context, node);
}

}  // namespace

TFLMRegistration* Register_KS_DEPTHWISE_CONV_2D() {
  static TFLMRegistration registration =
      tflite::micro::RegisterOp(Init, Prepare, Eval);
  return &registration;
}

}  // namespace keras_subnets
