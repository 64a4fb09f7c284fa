// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Bounds-checked reader for the flat flexbuffer map a KS_* operator carries
 * as custom options (docs/format.md §12).  TFLM-independent.
 *
 * Why not tflite::FlexbufferWrapper: it reads values by position, so one
 * missing or extra key silently shifts every later value, and neither it nor
 * flexbuffers::Map checks offsets against the buffer length.  The options
 * come from an untrusted file, so every read here stays inside
 * [buffer, buffer + length) and keys are matched by name.  It also keeps the
 * host adapter for the tflite-micro wheel free of flatbuffers headers.
 */
#ifndef KS_FLEXBUFFER_H_
#define KS_FLEXBUFFER_H_

#include <stddef.h>
#include <stdint.h>

namespace keras_subnets {

class FlexbufferMap {
 public:
  // Parses the root; Ok() is false when the buffer is not a flexbuffer map
  // whose keys, values and type bytes all lie inside the buffer.
  FlexbufferMap(const uint8_t* buffer, size_t length);

  bool Ok() const { return ok_; }
  int32_t Size() const { return ok_ ? static_cast<int32_t>(size_) : 0; }

  // Finds `key`; false when absent or not a number (int, uint, bool,
  // float, inline or indirect).  Floats convert with truncation to int64 in
  // GetInt, integers exactly to double in GetDouble.
  bool GetInt(const char* key, int64_t* value) const;
  bool GetDouble(const char* key, double* value) const;

 private:
  // Index of `key` in the sorted key vector, or -1.
  int32_t Find(const char* key) const;
  // Reads element `i` as a number; `is_float` tells which member is set.
  bool ReadNumber(int32_t i, int64_t* as_int, double* as_double,
                  bool* is_float) const;
  bool InBounds(size_t offset, size_t bytes) const;

  const uint8_t* buffer_;
  size_t length_;
  bool ok_;
  size_t values_;    // offset of the value vector
  size_t width_;     // byte width of values
  size_t size_;      // number of entries
  size_t keys_;      // offset of the key vector
  size_t key_width_;
};

}  // namespace keras_subnets

#endif  // KS_FLEXBUFFER_H_
