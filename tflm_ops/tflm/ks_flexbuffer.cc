// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_flexbuffer.h"

#include <string.h>

namespace keras_subnets {
namespace {

// flexbuffers::Type values this reader understands.
constexpr int kTypeInt = 1;
constexpr int kTypeUInt = 2;
constexpr int kTypeFloat = 3;
constexpr int kTypeIndirectInt = 6;
constexpr int kTypeIndirectUInt = 7;
constexpr int kTypeIndirectFloat = 8;
constexpr int kTypeMap = 9;
constexpr int kTypeBool = 26;

// A KS_* map has ~25 keys; the cap keeps every size * width product far
// from overflowing size_t on 32-bit targets.
constexpr size_t kMaxEntries = 256;

bool ValidWidth(uint64_t w) { return w == 1 || w == 2 || w == 4 || w == 8; }

uint64_t ReadUInt(const uint8_t* p, size_t w) {
  uint64_t v = 0;
  for (size_t i = 0; i < w; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

int64_t ReadInt(const uint8_t* p, size_t w) {
  const uint64_t u = ReadUInt(p, w);
  if (w == 8) return static_cast<int64_t>(u);
  const uint64_t sign = static_cast<uint64_t>(1) << (8 * w - 1);
  // Two's-complement sign extension without shifting a negative value.
  return static_cast<int64_t>((u ^ sign)) - static_cast<int64_t>(sign);
}

}  // namespace

bool FlexbufferMap::InBounds(size_t offset, size_t bytes) const {
  return offset <= length_ && bytes <= length_ - offset;
}

FlexbufferMap::FlexbufferMap(const uint8_t* buffer, size_t length)
    : buffer_(buffer), length_(length), ok_(false), values_(0), width_(0),
      size_(0), keys_(0), key_width_(0) {
  if (buffer == nullptr || length < 3) return;
  const size_t root_width = buffer[length - 1];
  const uint8_t packed = buffer[length - 2];
  if (!ValidWidth(root_width) || length < 2 + root_width) return;
  if ((packed >> 2) != kTypeMap) return;
  const size_t root = length - 2 - root_width;
  const uint64_t to_map = ReadUInt(buffer + root, root_width);
  if (to_map > root) return;
  const size_t map = root - static_cast<size_t>(to_map);
  const size_t w = static_cast<size_t>(1) << (packed & 3);
  // Before the values: key vector offset, key byte width, size.
  if (map < 3 * w || !InBounds(map - 3 * w, 3 * w)) return;
  const uint64_t size = ReadUInt(buffer + map - w, w);
  const uint64_t key_width = ReadUInt(buffer + map - 2 * w, w);
  const uint64_t to_keys = ReadUInt(buffer + map - 3 * w, w);
  if (size > kMaxEntries || !ValidWidth(key_width) || to_keys > map - 3 * w) {
    return;
  }
  const size_t keys = map - 3 * w - static_cast<size_t>(to_keys);
  // Values, then one packed-type byte per value.
  if (!InBounds(map, static_cast<size_t>(size) * (w + 1))) return;
  // The key vector is a typed vector preceded by its own size.
  if (keys < key_width || !InBounds(keys - key_width, (size + 1) * key_width)) {
    return;
  }
  if (ReadUInt(buffer + keys - key_width, key_width) != size) return;
  values_ = map;
  width_ = w;
  size_ = static_cast<size_t>(size);
  keys_ = keys;
  key_width_ = static_cast<size_t>(key_width);
  ok_ = true;
}

int32_t FlexbufferMap::Find(const char* key) const {
  if (!ok_ || key == nullptr) return -1;
  const size_t key_length = strlen(key);
  for (size_t i = 0; i < size_; ++i) {
    const size_t slot = keys_ + i * key_width_;
    const uint64_t back = ReadUInt(buffer_ + slot, key_width_);
    if (back > slot) continue;
    const size_t start = slot - static_cast<size_t>(back);
    // Compare key_length bytes plus the terminating NUL, all in bounds.
    if (!InBounds(start, key_length + 1)) continue;
    if (memcmp(buffer_ + start, key, key_length) == 0 &&
        buffer_[start + key_length] == 0) {
      return static_cast<int32_t>(i);
    }
  }
  return -1;
}

bool FlexbufferMap::ReadNumber(int32_t i, int64_t* as_int, double* as_double,
                               bool* is_float) const {
  const size_t slot = values_ + static_cast<size_t>(i) * width_;
  const uint8_t packed = buffer_[values_ + size_ * width_ + i];
  const int type = packed >> 2;
  size_t pos = slot;
  size_t w = width_;
  if (type == kTypeIndirectInt || type == kTypeIndirectUInt ||
      type == kTypeIndirectFloat) {
    const uint64_t back = ReadUInt(buffer_ + slot, width_);
    if (back > slot) return false;
    pos = slot - static_cast<size_t>(back);
    w = static_cast<size_t>(1) << (packed & 3);
    if (!InBounds(pos, w)) return false;
  }
  switch (type) {
    case kTypeInt:
    case kTypeIndirectInt:
      *as_int = ReadInt(buffer_ + pos, w);
      *is_float = false;
      return true;
    case kTypeUInt:
    case kTypeIndirectUInt:
    case kTypeBool: {
      const uint64_t u = ReadUInt(buffer_ + pos, w);
      if (u > static_cast<uint64_t>(INT64_MAX)) return false;
      *as_int = static_cast<int64_t>(u);
      *is_float = false;
      return true;
    }
    case kTypeFloat:
    case kTypeIndirectFloat:
      if (w == 4) {
        const uint32_t bits = static_cast<uint32_t>(ReadUInt(buffer_ + pos, 4));
        float f;
        memcpy(&f, &bits, sizeof(f));
        *as_double = f;
      } else if (w == 8) {
        const uint64_t bits = ReadUInt(buffer_ + pos, 8);
        memcpy(as_double, &bits, sizeof(*as_double));
      } else {
        return false;  // half floats: never written for KS_* options
      }
      *is_float = true;
      return true;
    default:
      return false;
  }
}

bool FlexbufferMap::GetInt(const char* key, int64_t* value) const {
  const int32_t i = Find(key);
  int64_t n = 0;
  double d = 0.0;
  bool is_float = false;
  if (i < 0 || !ReadNumber(i, &n, &d, &is_float)) return false;
  if (is_float) {
    // An integer option stored as a float is accepted only when exact.
    if (!(d >= -9.0e18 && d <= 9.0e18)) return false;
    n = static_cast<int64_t>(d);
    if (static_cast<double>(n) != d) return false;
  }
  *value = n;
  return true;
}

bool FlexbufferMap::GetDouble(const char* key, double* value) const {
  const int32_t i = Find(key);
  int64_t n = 0;
  double d = 0.0;
  bool is_float = false;
  if (i < 0 || !ReadNumber(i, &n, &d, &is_float)) return false;
  *value = is_float ? d : static_cast<double>(n);
  return true;
}

}  // namespace keras_subnets
