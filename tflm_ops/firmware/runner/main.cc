// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

// Whole-model harness: runs one embedded .tflite on real TFLite Micro, at
// every level on every given input, and reports what a firmware developer
// needs (keras_subnets/firmware/runner.py parses it):
//
//   ks: model arena_used_bytes=N inputs=S input_bytes=B outputs=O
//   ks: invoke level=K sample=I status=0 out=<hex of every output>   (pass 1)
//   ks: probe level=K status=1 ...                                    (probes)
//   ks: profile level=K ops=TAG,TAG,...                               (pass 2)
//   ks: done
//
// Pass 1 runs without a profiler, so each Invoke() bracketed by the
// KS_BENCH region "invoke" is exactly what a firmware pays; pass 2 attaches a
// MicroProfilerInterface whose events bracket each operator with the region
// "op" (counted by the QEMU plugin tflm_ops/cortex_m/plugin/ks_icount.c).
// On the host (x86) the markers are no-ops and only outputs are reported.
//
// Generated inputs (runner.py): "model_data.h" (keras-subnets export-c, the
// model as g_model and g_model_register_ops) and "run_config.h" (samples,
// levels, probes, arena size).
//
// No function-local statics and no global objects with constructors: the
// TFLM objects are placement-new'ed into static storage, so nothing needs
// __dso_handle / __cxa_atexit with a -nostartfiles start-up.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <new>

#include "model_data.h"
#include "run_config.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

#if defined(__arm__)
#include "ks_bench.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#define KS_REGION_BEGIN(name) KS_BENCH_BEGIN(name)
#define KS_REGION_END(name) KS_BENCH_END(name)
#else
#define KS_REGION_BEGIN(name) ((void)0)
#define KS_REGION_END(name) ((void)0)
#endif

namespace {

constexpr int kMaxEvents = 256;

// Records the operator tags of one Invoke and brackets each operator with the
// "op" region.  Events never nest in TFLM's graph (one per operator).
class RegionProfiler : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char* tag) override {
    const uint32_t handle = static_cast<uint32_t>(count_);
    if (count_ < kMaxEvents) tags_[count_] = tag;
    ++count_;
    KS_REGION_BEGIN(op);
    return handle;
  }
  void EndEvent(uint32_t event_handle) override {
    KS_REGION_END(op);
    (void)event_handle;
  }
  void Clear() { count_ = 0; }
  int count() const { return count_; }
  const char* tag(int i) const { return i < kMaxEvents ? tags_[i] : "?"; }

 private:
  const char* tags_[kMaxEvents] = {};
  int count_ = 0;
};

using Resolver = tflite::MicroMutableOpResolver<g_model_op_count>;

alignas(16) uint8_t g_arena[KS_ARENA_BYTES];
alignas(Resolver) unsigned char g_resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) unsigned char g_interpreter_storage[sizeof(tflite::MicroInterpreter)];
alignas(RegionProfiler) unsigned char g_profiler_storage[sizeof(RegionProfiler)];

void LogToStdout(const char* s) { fputs(s, stdout); }

void PrintHex(const TfLiteTensor* t) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(t->data.raw);
  for (size_t i = 0; i < t->bytes; ++i) printf("%02x", p[i]);
}

void PrintOutputs(tflite::MicroInterpreter& interpreter) {
  printf(" out=");
  for (size_t o = 0; o < interpreter.outputs_size(); ++o) {
    if (o) printf(",");
    PrintHex(interpreter.output(o));
  }
}

enum class Region { kInvoke, kProbe, kProfiled };

// Writes sample `sample` and `level`, runs Invoke() inside the region's
// markers; returns Invoke's status.
TfLiteStatus RunOne(tflite::MicroInterpreter& interpreter, int sample, int32_t level, Region region) {
  TfLiteTensor* input = interpreter.input(0);
  memcpy(input->data.raw, ks_inputs + static_cast<size_t>(sample) * ks_input_bytes, ks_input_bytes);
  if (ks_subnet_input >= 0) interpreter.input(ks_subnet_input)->data.i32[0] = level;
  TfLiteStatus status;
  switch (region) {
    case Region::kInvoke:
      KS_REGION_BEGIN(invoke);
      status = interpreter.Invoke();
      KS_REGION_END(invoke);
      break;
    case Region::kProbe:
      KS_REGION_BEGIN(probe);
      status = interpreter.Invoke();
      KS_REGION_END(probe);
      break;
    default:
      KS_REGION_BEGIN(profiled);
      status = interpreter.Invoke();
      KS_REGION_END(profiled);
      break;
  }
  return status;
}

tflite::MicroInterpreter* MakeInterpreter(const tflite::Model* model, const Resolver& resolver,
                                          tflite::MicroProfilerInterface* profiler) {
  return new (g_interpreter_storage)
      tflite::MicroInterpreter(model, resolver, g_arena, sizeof(g_arena), nullptr, profiler);
}

}  // namespace

int main() {
#if defined(__arm__)
  // cortex_m_generic's DebugLog drops everything until a callback is set, and
  // MicroPrintf carries every error message of TFLM and of the KS_* operators.
  RegisterDebugLogCallback(LogToStdout);
#endif
  setvbuf(stdout, nullptr, _IONBF, 0);
  const tflite::Model* model = tflite::GetModel(g_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    printf("ks: error schema version %d, expected %d\n", static_cast<int>(model->version()),
           TFLITE_SCHEMA_VERSION);
    return 4;
  }
  Resolver* resolver = new (g_resolver_storage) Resolver();
  if (g_model_register_ops(*resolver) != kTfLiteOk) {
    printf("ks: error registering the model's operators\n");
    return 3;
  }

  tflite::MicroInterpreter* interpreter = MakeInterpreter(model, *resolver, nullptr);
  if (interpreter->AllocateTensors() != kTfLiteOk) {
    printf("ks: error AllocateTensors failed\n");
    return 2;
  }
  if (interpreter->input(0)->bytes != ks_input_bytes ||
      (ks_subnet_input >= 0 && (static_cast<size_t>(ks_subnet_input) >= interpreter->inputs_size() ||
                                interpreter->input(ks_subnet_input)->type != kTfLiteInt32))) {
    printf("ks: error input layout: input 0 has %u bytes (run_config says %u)\n",
           static_cast<unsigned>(interpreter->input(0)->bytes), static_cast<unsigned>(ks_input_bytes));
    return 5;
  }
  printf("ks: model arena_used_bytes=%u inputs=%d input_bytes=%u outputs=%u\n",
         static_cast<unsigned>(interpreter->arena_used_bytes()), ks_num_samples,
         static_cast<unsigned>(ks_input_bytes), static_cast<unsigned>(interpreter->outputs_size()));

  for (int l = 0; l < ks_num_levels; ++l) {
    for (int s = 0; s < ks_num_samples; ++s) {
      const TfLiteStatus status = RunOne(*interpreter, s, ks_levels[l], Region::kInvoke);
      printf("ks: invoke level=%d sample=%d status=%d", static_cast<int>(ks_levels[l]), s,
             static_cast<int>(status));
      if (status == kTfLiteOk) PrintOutputs(*interpreter);
      printf("\n");
    }
  }
  // Probes (e.g. an out-of-range level, then a valid one): same interpreter, sample 0.
  for (int p = 0; p < ks_num_probes; ++p) {
    const TfLiteStatus status = RunOne(*interpreter, 0, ks_probes[p], Region::kProbe);
    printf("ks: probe level=%d status=%d", static_cast<int>(ks_probes[p]), static_cast<int>(status));
    if (status == kTfLiteOk) PrintOutputs(*interpreter);
    printf("\n");
  }

  if (ks_profile) {
    interpreter->~MicroInterpreter();
    RegionProfiler* profiler = new (g_profiler_storage) RegionProfiler();
    interpreter = MakeInterpreter(model, *resolver, profiler);
    if (interpreter->AllocateTensors() != kTfLiteOk) {
      printf("ks: error AllocateTensors failed (profiled pass)\n");
      return 2;
    }
    for (int l = 0; l < ks_num_levels; ++l) {
      profiler->Clear();
      if (RunOne(*interpreter, 0, ks_levels[l], Region::kProfiled) != kTfLiteOk) {
        printf("ks: error profiled Invoke failed at level %d\n", static_cast<int>(ks_levels[l]));
        return 6;
      }
      printf("ks: profile level=%d ops=", static_cast<int>(ks_levels[l]));
      for (int i = 0; i < profiler->count(); ++i) printf(i ? ",%s" : "%s", profiler->tag(i));
      printf("\n");
    }
  }
  printf("ks: done\n");
  return 0;
}
