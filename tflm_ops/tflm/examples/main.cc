// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

// Minimal firmware main for a model written by keras_subnets.convert:
// register exactly the model's operators, write an image and the level,
// Invoke.  Built and run on Cortex-M4 under QEMU by tests/firmware
// (tflm_ops/firmware/Makefile APP_SRC=...); compile-checked by
// `make -C tflm_ops/tflm check TFLM_ROOT=...`.
//
//   keras-subnets export-c model.tflite -o model_data.cc   # + model_data.h
//
// model_data.h declares the 16-byte aligned `const unsigned char g_model[]`,
// g_model_op_count and g_model_register_ops(resolver), which registers the
// KS_* operators and exactly the builtins the file contains (for the
// quickstart CNN: AVERAGE_POOL_2D, RESHAPE, SOFTMAX).
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <new>

#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/schema/schema_generated.h"

#if defined(TF_LITE_MCU_DEBUG_LOG) && defined(__arm__)
// TFLM's cortex_m_generic target: DebugLog prints nothing until a callback is
// registered, so every MicroPrintf (TFLM's and each KS_* operator's error
// messages) would be lost.
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#define KS_EXAMPLE_DEBUG_LOG_CALLBACK 1
#endif

#ifndef KS_EXAMPLE_LEVELS
#define KS_EXAMPLE_LEVELS 4  // levels in the file (keras-subnets inspect)
#endif

namespace {

constexpr int kArenaSize = 32 * 1024;  // >= arena_used_bytes (keras-subnets profile)
alignas(16) uint8_t g_arena[kArenaSize];

// The TFLM objects live in static storage and are constructed in main().
// A function-local `static tflite::MicroInterpreter interpreter(...)` would
// register its destructor with __cxa_atexit, which needs __dso_handle: a
// bare-metal image linked with its own start-up (-nostartfiles) then fails
// with "undefined reference to '__dso_handle'" (or build with
// -fno-use-cxa-atexit).
using Resolver = tflite::MicroMutableOpResolver<g_model_op_count>;
alignas(Resolver) unsigned char g_resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) unsigned char g_interpreter_storage[sizeof(tflite::MicroInterpreter)];

#if defined(KS_EXAMPLE_DEBUG_LOG_CALLBACK)
void LogToStdout(const char* s) { fputs(s, stdout); }
#endif

}  // namespace

int main() {
#if defined(KS_EXAMPLE_DEBUG_LOG_CALLBACK)
  RegisterDebugLogCallback(LogToStdout);
#endif
  const tflite::Model* model = tflite::GetModel(g_model);
  Resolver* resolver = new (g_resolver_storage) Resolver();
  if (g_model_register_ops(*resolver) != kTfLiteOk) return 1;
  tflite::MicroInterpreter* interpreter =
      new (g_interpreter_storage) tflite::MicroInterpreter(model, *resolver, g_arena, kArenaSize);
  if (interpreter->AllocateTensors() != kTfLiteOk) return 2;  // Prepare checks the file

  TfLiteTensor* image = interpreter->input(0);   // int8 [1, 28, 28, 1]
  TfLiteTensor* subnet = interpreter->input(1);  // int32 [1]: the level
  memset(image->data.int8, 0, image->bytes);     // your quantized input here

  // Sparsest (cheapest) first; the last one is out of range on purpose:
  // Invoke returns kTfLiteError with the operator's message, and the
  // interpreter keeps working.
  for (int32_t level = 0; level <= KS_EXAMPLE_LEVELS; ++level) {
    subnet->data.i32[0] = level;  // switching level: one write before Invoke
    if (interpreter->Invoke() != kTfLiteOk) {
      MicroPrintf("level %d: Invoke failed", static_cast<int>(level));
      continue;
    }
    const int8_t* scores = interpreter->output(0)->data.int8;
    MicroPrintf("level %d: class 0 score %d", static_cast<int>(level), scores[0]);
  }
  return 0;
}
