// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

// Run-time level governor example: a sequence of inferences under a changing
// per-inference budget (a deadline trace), each at the most accurate level
// whose measured cost fits, chosen from the level table the .tflite carries
// (tflm_ops/include/ks_governor.h, tflm/ks_level_table.h) and switched by one
// write to the `subnet` input.
//
//   keras-subnets profile model.tflite --target m4 --write   # measured costs into the file
//   keras-subnets export-c model.tflite -o model_data.cc
//
// The trace: "governor_trace.h" (ks_trace_us[], ks_trace_steps, ks_clock_hz,
// ks_cycles_per_100_instructions) when present, else the default below.  On
// a real board, compare each Invoke's DWT cycle count with its deadline; under
// QEMU the ks_icount plugin counts each Invoke (region "invoke") and
// tests/firmware/governor_test.py checks the deadlines.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <new>

#include "ks_governor.h"
#include "ks_level_table.h"
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"

#if defined(__arm__)
#include "ks_bench.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#define KS_INVOKE_BEGIN() KS_BENCH_BEGIN(invoke)
#define KS_INVOKE_END() KS_BENCH_END(invoke)
#else
#define KS_INVOKE_BEGIN() ((void)0)
#define KS_INVOKE_END() ((void)0)
#endif

#if __has_include("governor_trace.h")
#include "governor_trace.h"
#else
// Deadlines in microseconds at 100 MHz, one instruction per cycle.
static const uint32_t ks_trace_us[] = {40000, 30000, 20000, 15000, 10000, 25000, 40000};
static const int ks_trace_steps = sizeof(ks_trace_us) / sizeof(ks_trace_us[0]);
static const uint32_t ks_clock_hz = 100000000u;
static const uint32_t ks_cycles_per_100_instructions = 100u;
#endif

#ifndef KS_GOVERNOR_COST
#if defined(CPU_M7)
#define KS_GOVERNOR_COST KS_LEVEL_INSTRUCTIONS_M7
#else
#define KS_GOVERNOR_COST KS_LEVEL_INSTRUCTIONS_M4
#endif
#endif

namespace {

alignas(16) uint8_t g_arena[64 * 1024];
using Resolver = tflite::MicroMutableOpResolver<g_model_op_count>;
alignas(Resolver) unsigned char g_resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) unsigned char g_interpreter_storage[sizeof(tflite::MicroInterpreter)];

void LogToStdout(const char* s) { fputs(s, stdout); }

}  // namespace

int main() {
#if defined(__arm__)
  RegisterDebugLogCallback(LogToStdout);
#endif
  const tflite::Model* model = tflite::GetModel(g_model);
  ks_level_table table;
  if (keras_subnets::GetLevelTable(model, &table) != kTfLiteOk) {
    printf("gov: error the model has no valid keras_subnets.level_costs table\n");
    return 2;
  }
  Resolver* resolver = new (g_resolver_storage) Resolver();
  if (g_model_register_ops(*resolver) != kTfLiteOk) return 3;
  tflite::MicroInterpreter* interpreter =
      new (g_interpreter_storage) tflite::MicroInterpreter(model, *resolver, g_arena, sizeof(g_arena));
  if (interpreter->AllocateTensors() != kTfLiteOk) return 4;
  TfLiteTensor* image = interpreter->input(0);
  TfLiteTensor* subnet = interpreter->input(1);
  memset(image->data.raw, 0, image->bytes);  // a sensor frame in a real firmware
  printf("gov: table levels=%d cost_field=%d\n", static_cast<int>(table.num_levels),
         static_cast<int>(KS_GOVERNOR_COST));

  int within = 0;
  for (int step = 0; step < ks_trace_steps; ++step) {
    const uint64_t budget = ks_time_budget(ks_trace_us[step], ks_clock_hz, ks_cycles_per_100_instructions);
    const int32_t chosen = ks_select_level(&table, KS_GOVERNOR_COST, budget);
    const int32_t level = chosen < 0 ? 0 : chosen;  // nothing fits: the cheapest level, late
    subnet->data.i32[0] = level;
    KS_INVOKE_BEGIN();
    const TfLiteStatus status = interpreter->Invoke();
    KS_INVOKE_END();
    const uint32_t cost = ks_level_value(&table, level, KS_GOVERNOR_COST);
    within += chosen >= 0;
    printf("gov: step=%d budget=%lu level=%d expected_cost=%lu fits=%d status=%d\n", step,
           static_cast<unsigned long>(budget), static_cast<int>(level), static_cast<unsigned long>(cost),
           chosen >= 0 ? 1 : 0, static_cast<int>(status));
  }
  printf("gov: done steps=%d within_budget=%d\n", ks_trace_steps, within);
  return 0;
}
