// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * KS_* operators for the tflite-micro PyPI wheel's interpreter.
 *
 * The same KernelGlue / ks_op.cc as the firmware build (tflm_ops/tflm/),
 * bound to the wheel's interface (ks_wheel_abi.h).  Loaded by
 * keras_subnets/tflm.py with RTLD_GLOBAL, which then passes
 * custom_op_registerers=["KerasSubnetsRegisterOps"] to the interpreter.
 */
#include <string.h>

#include "ks_kernel_glue.h"
#include "ks_wheel_abi.h"

// Built with -fvisibility=hidden: only the entry points below are exported,
// so the core's ks_* symbols cannot clash with anything else in the process.
#define KS_EXPORT __attribute__((visibility("default")))

namespace keras_subnets {
namespace {

using tflite::micro::TfLiteContext;
using tflite::micro::TFLMRegistration;

// The wheel turns a failing Prepare/Invoke into a generic RuntimeError and
// prints the op's message to stderr; keeping the last message lets the
// Python side put it into the exception.
char g_last_error[256];

struct WheelApi {
  using Context = TfLiteContext;
  using Node = tflite::micro::TfLiteNode;
  using EvalTensor = tflite::micro::TfLiteEvalTensor;
  using Status = tflite::micro::TfLiteStatus;
  static constexpr Status kOk = tflite::micro::kTfLiteOk;
  static constexpr Status kError = tflite::micro::kTfLiteError;

  static void* AllocatePersistentBuffer(Context* context, size_t bytes) {
    return tflite::micro::MicroContextAllocatePersistentBuffer(context, bytes);
  }
  static const EvalTensor* GetEvalTensor(const Context* context, int index) {
    return tflite::micro::MicroContextGetEvalTensor(context, index);
  }
  static bool RequestScratchBufferInArena(Context* context, size_t bytes, int* index) {
    return tflite::micro::MicroContextRequestScratchBufferInArena(context, bytes, index) ==
           kOk;
  }
  static void* GetScratchBuffer(Context* context, int index) {
    return tflite::micro::MicroContextGetScratchBuffer(context, index);
  }
  static void Report(Context* context, const char* message) {
    strncpy(g_last_error, message, sizeof(g_last_error) - 1);
    g_last_error[sizeof(g_last_error) - 1] = '\0';
    tflite::micro::MicroContextReportOpError(context, "%s", message);
  }
};

template <OpKind kKind>
TFLMRegistration Registration(const char* name) {
  using Glue = KernelGlue<WheelApi, kKind>;
  TFLMRegistration r = {};
  r.init = Glue::Init;
  r.prepare = Glue::Prepare;
  r.invoke = Glue::Eval;
  r.builtin_code = wheel::kBuiltinCustom;
  r.custom_name = name;
  return r;
}

void SetError(const char* message) {
  strncpy(g_last_error, message, sizeof(g_last_error) - 1);
  g_last_error[sizeof(g_last_error) - 1] = '\0';
}

}  // namespace
}  // namespace keras_subnets

extern "C" {

// Called by the wheel's interpreter (dlsym by name) with its
// PythonOpsResolver.  There is no exported AddCustom, so this does what the
// inline MicroMutableOpResolver::AddCustom does, on the layout pinned in
// ks_wheel_abi.h, after checking that the layout looks as expected.
KS_EXPORT bool KerasSubnetsRegisterOps(tflite::PythonOpsResolver* resolver) {
  using keras_subnets::OpKind;
  using keras_subnets::SetError;
  namespace wheel = keras_subnets::wheel;
  using tflite::micro::TFLMRegistration;
  if (resolver == nullptr) {
    SetError("KerasSubnetsRegisterOps: no resolver");
    return false;
  }
  unsigned char* base = reinterpret_cast<unsigned char*>(resolver);
  TFLMRegistration* registrations =
      reinterpret_cast<TFLMRegistration*>(base + wheel::kRegistrationsOffset);
  unsigned int* count = reinterpret_cast<unsigned int*>(base + wheel::kRegistrationCountOffset);
  const TFLMRegistration ours[] = {
      keras_subnets::Registration<OpKind::kFullyConnected>("KS_FULLY_CONNECTED"),
      keras_subnets::Registration<OpKind::kConv2D>("KS_CONV_2D"),
      keras_subnets::Registration<OpKind::kDepthwiseConv2D>("KS_DEPTHWISE_CONV_2D"),
  };
  const unsigned int n = sizeof(ours) / sizeof(ours[0]);
  // The PythonOpsResolver constructor registers every builtin, so a sane
  // layout shows a non-empty table of registrations with invoke functions
  // and builtin codes in range.
  if (*count == 0 || *count > wheel::kResolverOpCount - n) {
    SetError("KerasSubnetsRegisterOps: resolver layout differs from the pinned wheel "
             "(registration count out of range)");
    return false;
  }
  for (unsigned int i = 0; i < *count; ++i) {
    const TFLMRegistration& r = registrations[i];
    if (r.invoke == nullptr || r.builtin_code < 0 || r.builtin_code > 1024) {
      SetError("KerasSubnetsRegisterOps: resolver layout differs from the pinned wheel "
               "(implausible registration)");
      return false;
    }
    for (unsigned int j = 0; j < n; ++j) {
      if (r.builtin_code == wheel::kBuiltinCustom && r.custom_name != nullptr &&
          strcmp(r.custom_name, ours[j].custom_name) == 0) {
        SetError("KerasSubnetsRegisterOps: a KS_* operator is already registered");
        return false;
      }
    }
  }
  for (unsigned int j = 0; j < n; ++j) registrations[(*count)++] = ours[j];
  return true;
}

KS_EXPORT const char* KerasSubnetsLastError(void) { return keras_subnets::g_last_error; }

KS_EXPORT void KerasSubnetsClearLastError(void) { keras_subnets::g_last_error[0] = '\0'; }

}  // extern "C"
