// Minimal firmware main for a model written by keras_subnets.convert:
// register the KS_* operators, write an image and the level, Invoke.
// (Compile-checked by `make -C tflm_ops/tflm check TFLM_ROOT=...`.)
#include <stdint.h>
#include <string.h>

#include "ks_custom_ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/schema/schema_generated.h"

// The .tflite file as a C array (xxd -i model.tflite), 16-byte aligned.
extern const unsigned char g_model[];

namespace {
constexpr int kArenaSize = 64 * 1024;
alignas(16) uint8_t g_arena[kArenaSize];
}  // namespace

int main() {
  const tflite::Model* model = tflite::GetModel(g_model);

  // Three KS_* ops + the builtins of the quickstart CNN.
  static tflite::MicroMutableOpResolver<8> resolver;
  if (keras_subnets::AddCustomOps(resolver) != kTfLiteOk) return 1;
  resolver.AddMean();     // GlobalAveragePooling2D
  resolver.AddSoftmax();
  resolver.AddReshape();

  static tflite::MicroInterpreter interpreter(model, resolver, g_arena, kArenaSize);
  if (interpreter.AllocateTensors() != kTfLiteOk) return 1;  // Prepare checks the file

  TfLiteTensor* image = interpreter.input(0);   // int8 [1, 28, 28, 1]
  TfLiteTensor* subnet = interpreter.input(1);  // int32 [1]: the level
  memset(image->data.int8, 0, image->bytes);    // your quantized input here

  for (int32_t level = 0; level < 3; ++level) {  // sparsest (cheapest) first
    subnet->data.i32[0] = level;
    if (interpreter.Invoke() != kTfLiteOk) return 1;  // e.g. level out of range
    const int8_t* scores = interpreter.output(0)->data.int8;
    MicroPrintf("level %d: class 0 score %d", static_cast<int>(level), scores[0]);
  }
  return 0;
}
