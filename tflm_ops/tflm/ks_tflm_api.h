// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * The public TFLM binary interface for KernelGlue (ks_kernel_glue.h):
 * everything the KS_* operators need from TFLM goes through these five
 * functions, so porting to another TFLM variant means writing another such
 * struct (tflm_ops/host/ks_wheel_abi.h does it for the tflite-micro wheel).
 */
#ifndef KS_TFLM_API_H_
#define KS_TFLM_API_H_

#include <stddef.h>

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_log.h"

namespace keras_subnets {

struct TflmApi {
  using Context = TfLiteContext;
  using Node = TfLiteNode;
  using EvalTensor = TfLiteEvalTensor;
  using Status = TfLiteStatus;
  static constexpr Status kOk = kTfLiteOk;
  static constexpr Status kError = kTfLiteError;

  static void* AllocatePersistentBuffer(Context* context, size_t bytes) {
    return context->AllocatePersistentBuffer(context, bytes);
  }
  static const EvalTensor* GetEvalTensor(const Context* context, int index) {
    return context->GetEvalTensor(context, index);
  }
  static bool RequestScratchBufferInArena(Context* context, size_t bytes, int* index) {
    return context->RequestScratchBufferInArena(context, bytes, index) == kTfLiteOk;
  }
  static void* GetScratchBuffer(Context* context, int index) {
    return context->GetScratchBuffer(context, index);
  }
  static void Report(Context* context, const char* message) {
    (void)context;
    MicroPrintf("%s", message);
  }
};

}  // namespace keras_subnets

#endif  // KS_TFLM_API_H_
