// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * The binary interface of the tflite-micro PyPI wheel, declared by hand.
 *
 * Pinned to tflite-micro 0.dev20261023182759 (built from tflite-micro
 * commit 8f6596d).  The wheel ships no headers, and its interface differs
 * from the public TFLM headers: every C API type lives in namespace
 * tflite::micro, TfLiteContext has no function-pointer table (its first word
 * is the MicroContext*), and the context services are exported free
 * functions.  Code compiled against the public headers registers and then
 * crashes in Init, hence this file.
 *
 * Only what the KS_* operators touch is declared.  keras_subnets/tflm.py
 * checks, before loading the adapter, that the wheel version matches and
 * that every function declared below is exported by _runtime.so.
 */
#ifndef KS_WHEEL_ABI_H_
#define KS_WHEEL_ABI_H_

#include <stddef.h>
#include <stdint.h>

namespace tflite {

// MicroMutableOpResolver<200>; only its byte layout is used (see below).
class PythonOpsResolver;

namespace micro {

enum TfLiteStatus { kTfLiteOk = 0, kTfLiteError = 1 };

// Opaque: the wheel's slim context, whose first word is the MicroContext*.
// Never dereferenced here; passed back to the exported functions.
struct TfLiteContext;

// Layouts identical to the public headers (TF_LITE_STATIC_MEMORY build).
struct TfLiteIntArray {
  int size;
  int data[1];  // really data[size]; indexed past 1 like TFLM does
};

struct TfLiteEvalTensor {
  union {
    void* data;
  } data;
  TfLiteIntArray* dims;
  int type;  // TfLiteType
};

struct TfLiteNode {
  TfLiteIntArray* inputs;
  TfLiteIntArray* outputs;
  TfLiteIntArray* intermediates;
  void* user_data;
  const void* builtin_data;
  const void* custom_initial_data;
  int custom_initial_data_size;
};

struct TFLMRegistration {
  void* (*init)(TfLiteContext* context, const char* buffer, size_t length);
  void (*free)(TfLiteContext* context, void* buffer);
  TfLiteStatus (*prepare)(TfLiteContext* context, TfLiteNode* node);
  TfLiteStatus (*invoke)(TfLiteContext* context, TfLiteNode* node);
  void (*reset)(TfLiteContext* context, void* buffer);
  int32_t builtin_code;
  const char* custom_name;
};

// Exported by _runtime.so.  Their mangled names are REQUIRED_SYMBOLS in
// keras_subnets/tflm.py (a test compares that list with this library's
// undefined symbols).
void* MicroContextAllocatePersistentBuffer(TfLiteContext* context, size_t bytes);
TfLiteStatus MicroContextRequestScratchBufferInArena(TfLiteContext* context, size_t bytes,
                                                     int* buffer_index);
void* MicroContextGetScratchBuffer(TfLiteContext* context, int buffer_index);
TfLiteEvalTensor* MicroContextGetEvalTensor(const TfLiteContext* context, int tensor_index);
void MicroContextReportOpError(TfLiteContext* context, const char* format, ...);

}  // namespace micro
}  // namespace tflite

namespace keras_subnets {
namespace wheel {

// MicroMutableOpResolver<200> layout on x86-64 (read off the wheel's
// PythonOpsResolver constructor): vtable pointer, then
// TFLMRegistration registrations_[200] at byte 8, then
// unsigned int registrations_len_ at byte 11208.
constexpr size_t kResolverOpCount = 200;
constexpr size_t kRegistrationsOffset = 8;
constexpr size_t kRegistrationCountOffset = 11208;
constexpr int32_t kBuiltinCustom = 32;  // BuiltinOperator_CUSTOM

static_assert(sizeof(void*) == 8, "the wheel layout is only known for 64-bit hosts");
static_assert(sizeof(tflite::micro::TFLMRegistration) == 56, "TFLMRegistration layout");
static_assert(kRegistrationsOffset + kResolverOpCount * sizeof(tflite::micro::TFLMRegistration) ==
                  kRegistrationCountOffset,
              "resolver layout");
static_assert(sizeof(tflite::micro::TfLiteEvalTensor) == 24, "TfLiteEvalTensor layout");
static_assert(sizeof(tflite::micro::TfLiteNode) == 56, "TfLiteNode layout");

}  // namespace wheel
}  // namespace keras_subnets

#endif  // KS_WHEEL_ABI_H_
