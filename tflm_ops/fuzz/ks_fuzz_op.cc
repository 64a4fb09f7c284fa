// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * libFuzzer target: a whole KS_* operator (tflm/ks_op.cc) as the TFLM glue
 * drives it — PrepareOp on fuzzed options and input tensors, then
 * FinishOp and EvalOp at every level — including format v3's option
 * dense_top and its dense tensor (input 8), the tap-major structured
 * depthwise values and the ks_dense_* kernels; format v4's int8 sparse
 * operators, whose values are always that dense tensor; format v5's
 * binary options record through InitOp (intact: every field read back;
 * truncated or with a byte too many: refused; one bit flipped: no crash).
 *
 * Tensors are built mostly valid (a nested matrix encoded as the converter
 * encodes it, tables of the layout's length, shapes from the geometry) so
 * that Prepare's later checks and the kernels are reached, then the input
 * perturbs one of them: a type, a dimension, a length, presence, an option.
 * Every array is its own heap block of exactly its declared size, so
 * AddressSanitizer reports any read past a tensor Prepare let through; an
 * operator Prepare accepted must run at every level in [0, L) and refuse
 * any other.
 *
 * Build and run: see README.md in this directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_op.h"

namespace {

using keras_subnets::ErrorMessage;
using keras_subnets::OpData;
using keras_subnets::OpKind;
using keras_subnets::OpOptions;
using keras_subnets::TensorView;

struct Src {
  const uint8_t* d;
  size_t n;
  uint8_t U8() {
    if (n == 0) return 0;
    --n;
    return *d++;
  }
  int32_t I32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(U8()) << (8 * i);
    return static_cast<int32_t>(v);
  }
  // Uniform-ish in [lo, hi].
  int32_t Range(int32_t lo, int32_t hi) { return lo + static_cast<int32_t>(U8() % (hi - lo + 1)); }
};

// Heap blocks of one run, freed at the end.
struct Arena {
  void* blocks[64];
  int count = 0;
  void* Alloc(size_t bytes) {
    void* p = malloc(bytes > 0 ? bytes : 1);
    if (count < 64) blocks[count++] = p;
    return p;
  }
  ~Arena() {
    for (int i = 0; i < count; ++i) free(blocks[i]);
  }
};

struct Tensor {
  int dims[6];
  TensorView view;
};

void SetTensor(Tensor* t, int32_t type, const int* dims, int32_t num_dims, void* data) {
  for (int32_t i = 0; i < num_dims && i < 6; ++i) t->dims[i] = dims[i];
  t->view.present = true;
  t->view.type = type;
  t->view.dims = t->dims;
  t->view.num_dims = num_dims;
  t->view.data = data;
}

size_t TypeSize(int32_t type) {
  switch (type) {
    case keras_subnets::kTypeFloat32:
    case keras_subnets::kTypeInt32:
      return 4;
    case keras_subnets::kTypeUInt16:
      return 2;
    default:
      return 1;
  }
}

// A 1-D constant tensor of `count` elements of `type`, filled from `fill`
// (int32 values narrowed to the type).
void Const1D(Arena* arena, Tensor* t, int32_t type, int32_t count, const int32_t* fill) {
  const size_t size = TypeSize(type);
  uint8_t* p = static_cast<uint8_t*>(arena->Alloc(static_cast<size_t>(count) * size));
  for (int32_t i = 0; i < count; ++i) {
    const int32_t v = fill[i];
    if (size == 4) {
      memcpy(p + 4 * i, &v, 4);
    } else if (size == 2) {
      const uint16_t u = static_cast<uint16_t>(v);
      memcpy(p + 2 * i, &u, 2);
    } else {
      p[i] = static_cast<uint8_t>(v);
    }
  }
  const int dims[1] = {count};
  SetTensor(t, type, dims, 1, p);
}

// Format v5 options: "KSO", version, zigzag LEB128 varints (kCommonOptions
// then kInt8Options order of tflm/ks_op.cc), float32 clamp bounds for float.
size_t PutVarint(uint8_t* p, int64_t value) {
  uint32_t z = (static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(static_cast<int32_t>(value) >> 31);
  size_t n = 0;
  do {
    p[n] = static_cast<uint8_t>(z & 0x7Fu);
    z >>= 7;
    if (z != 0) p[n] |= 0x80u;
    ++n;
  } while (z != 0);
  return n;
}

size_t EncodeOptions(const OpOptions& o, uint8_t* p) {
  size_t n = 0;
  p[n++] = 'K';
  p[n++] = 'S';
  p[n++] = 'O';
  p[n++] = static_cast<uint8_t>(o.version);
  const int64_t common[] = {o.format, o.levels, o.rows, o.cols, o.in_channels, o.depth_multiplier,
                            o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, o.dilation_h, o.dilation_w,
                            o.padding, o.int8, o.tables, o.dense_top};
  for (int64_t v : common) n += PutVarint(p + n, v);
  if (o.int8 != 0) {
    const int64_t q[] = {o.input_offset, o.output_offset, o.act_min, o.act_max};
    for (int64_t v : q) n += PutVarint(p + n, v);
  } else {
    const float bounds[2] = {static_cast<float>(o.act_min_f), static_cast<float>(o.act_max_f)};
    memcpy(p + n, bounds, sizeof bounds);  // little-endian targets only (docs/format.md §1)
    n += sizeof bounds;
  }
  return n;
}

constexpr int32_t kMaxRows = 12;
constexpr int32_t kMaxCols = 54;  // 3x3x6

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  Src s{bytes, size};
  Arena arena;
  const OpKind kind = static_cast<OpKind>(s.U8() % 3);
  const bool fc = kind == OpKind::kFullyConnected;
  const bool dw = kind == OpKind::kDepthwiseConv2D;

  OpData* data = static_cast<OpData*>(arena.Alloc(sizeof(OpData)));
  memset(data, 0, sizeof(*data));
  data->kind = kind;
  OpOptions& o = data->options;
  o.version = KS_FORMAT_VERSION;
  o.format = s.Range(1, 4);
  o.levels = s.Range(1, 4);
  o.int8 = (s.U8() % 8) != 0;
  const uint8_t dense_byte = s.U8();
  o.dense_top = o.int8 ? (dense_byte % 4 != 0) : (dense_byte % 16 == 0);
  o.tables = s.Range(0, 2);
  const bool structured = o.format == KS_FORMAT_STRUCTURED;
  const int32_t L = static_cast<int32_t>(o.levels);
  const int32_t cin = s.Range(1, 6);
  o.in_channels = cin;
  o.depth_multiplier = dw ? s.Range(1, 2) : 0;
  o.kernel_h = fc ? 1 : s.Range(1, 3);
  o.kernel_w = fc ? 1 : s.Range(1, 3);
  o.stride_h = fc ? 1 : s.Range(1, 2);
  o.stride_w = fc ? 1 : s.Range(1, 2);
  o.dilation_h = (!fc && s.U8() % 8 == 0) ? s.Range(1, 4) : 1;
  o.dilation_w = (!fc && s.U8() % 8 == 0) ? s.Range(1, 4) : 1;
  o.padding = s.U8() & 1;
  const int32_t taps = static_cast<int32_t>(o.kernel_h * o.kernel_w);
  int32_t rows = dw ? cin * static_cast<int32_t>(o.depth_multiplier) : s.Range(1, kMaxRows);
  int32_t cols = fc ? cin : (dw ? taps : taps * cin);
  o.rows = rows;
  o.cols = cols;
  o.input_offset = s.Range(0, 255) - 127;
  o.output_offset = static_cast<int8_t>(s.U8());
  o.act_min = -128 + s.Range(0, 20);
  o.act_max = 127 - s.Range(0, 20);
  o.act_min_f = -6.0;
  o.act_max_f = 6.0;
  const int32_t value_type = o.int8 ? keras_subnets::kTypeInt8 : keras_subnets::kTypeFloat32;

  // ---- the options as the file stores them (format v5 record), through InitOp ----
  {
    uint8_t record[128];
    size_t length = EncodeOptions(o, record);
    const uint8_t damage = s.U8();
    if (damage % 8 == 1) {
      length = s.U8() % (length + 1);  // truncated
    } else if (damage % 8 == 2) {
      record[s.U8() % length] ^= static_cast<uint8_t>(1u << (s.U8() % 8));  // one bit flipped
    } else if (damage % 8 == 3) {
      record[length++] = s.U8();  // one byte too many
    }
    // An exact-size heap block: ASan reports any read past the record.
    uint8_t* bytes = static_cast<uint8_t*>(arena.Alloc(length));
    memcpy(bytes, record, length);
    OpData* parsed = static_cast<OpData*>(arena.Alloc(sizeof(OpData)));
    keras_subnets::InitOp(kind, bytes, length, parsed);
    if (damage % 8 == 0 || damage % 8 >= 4) {
      // Intact: InitOp must read back every field the converter would write.
      const OpOptions& r = parsed->options;
      if (parsed->init_error != nullptr || r.version != o.version || r.format != o.format ||
          r.levels != o.levels || r.rows != o.rows || r.cols != o.cols || r.in_channels != o.in_channels ||
          r.depth_multiplier != o.depth_multiplier || r.kernel_h != o.kernel_h || r.kernel_w != o.kernel_w ||
          r.stride_h != o.stride_h || r.stride_w != o.stride_w || r.dilation_h != o.dilation_h ||
          r.dilation_w != o.dilation_w || r.padding != o.padding || r.int8 != o.int8 || r.tables != o.tables ||
          r.dense_top != o.dense_top ||
          (o.int8 != 0 ? (r.input_offset != o.input_offset || r.output_offset != o.output_offset ||
                          r.act_min != o.act_min || r.act_max != o.act_max)
                       : (r.act_min_f != o.act_min_f || r.act_max_f != o.act_max_f))) {
        abort();
      }
    } else if (damage % 8 == 1 && parsed->init_error == nullptr && length < EncodeOptions(o, record)) {
      abort();  // a truncated record must be refused
    } else if (damage % 8 == 3 && parsed->init_error == nullptr) {
      abort();  // so must trailing bytes
    }
  }

  // ---- the nested matrix, encoded as the converter does ----
  const bool dense_top = o.dense_top != 0;
  // Format v4: an int8 sparse operator always carries the dense weights and
  // stores no values; structured carries them with dense_top.
  const bool has_dense = o.int8 && (dense_top || !structured);
  const int32_t stored = (dense_top && !structured) ? L - 1 : L;  // levels in the sparse arrays
  int32_t level_of[kMaxRows][kMaxCols];  // first level of each weight; stored = none
  int32_t weight[kMaxRows][kMaxCols];
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t c = 0; c < cols; ++c) {
      weight[r][c] = static_cast<int8_t>(s.U8());
      level_of[r][c] = stored > 0 ? s.Range(0, stored) : 0;
    }
  }
  Tensor t[keras_subnets::kMaxInputs + 1];
  memset(t, 0, sizeof(t));
  int32_t fill[kMaxRows * kMaxCols * 2 + 8];
  int32_t n = 0;
  int32_t out_w[4] = {0, 0, 0, 0};
  if (structured) {
    int32_t in_w[4];
    int32_t w_out = 0, w_in = 0;
    for (int32_t k = 0; k < L; ++k) {
      w_in = w_in + s.Range(0, cin - w_in);
      w_out = dw ? w_in * static_cast<int32_t>(o.depth_multiplier) : w_out + s.Range(0, rows - w_out);
      if (k == L - 1 && s.U8() % 8 != 0) {  // full width at the top, mostly
        w_in = cin;
        w_out = rows;
      }
      out_w[k] = w_out;
      in_w[k] = w_in;
    }
    for (int32_t k = 0; k < L; ++k) fill[k] = out_w[k];
    for (int32_t k = 0; k < L; ++k) fill[L + k] = in_w[k];
    Const1D(&arena, &t[keras_subnets::kLevelTable], keras_subnets::kTypeInt32, 2 * L, fill);
    if (!dense_top) {
      n = rows * cols;
      for (int32_t i = 0; i < n; ++i) fill[i] = weight[i / cols][i % cols];
      if (o.int8) {
        Const1D(&arena, &t[keras_subnets::kValues], value_type, n, fill);
      } else {
        float* f = static_cast<float*>(arena.Alloc(static_cast<size_t>(n) * 4));
        for (int32_t i = 0; i < n; ++i) f[i] = static_cast<float>(fill[i]) / 64.0f;
        const int dims[1] = {n};
        SetTensor(&t[keras_subnets::kValues], value_type, dims, 1, f);
      }
    }
  } else if (stored > 0) {
    const bool block = o.format == KS_FORMAT_NESTED_BLOCK;
    const int32_t space = block ? (cols + 1) / 2 : cols;
    if (block) {  // both columns of a block share the level
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t c = 1; c < cols; c += 2) level_of[r][c] = level_of[r][c - 1];
      }
    }
    int32_t idx[kMaxRows * kMaxCols];
    int32_t val[kMaxRows * kMaxCols * 2];
    int32_t ptr[kMaxRows * 4 + 1];
    int32_t counts[4] = {0, 0, 0, 0};
    int32_t nv = 0;
    ptr[0] = 0;
    if (o.format == KS_FORMAT_ROW) {
      // The same count per row and level: level k of every row takes the
      // next counts[k] columns of a rotated order.
      int32_t total = 0;
      for (int32_t k = 0; k < stored; ++k) {
        total += s.Range(0, (cols - total) < 3 ? cols - total : 3);
        counts[k] = total;
      }
      for (int32_t r = 0; r < rows; ++r) {
        const int32_t shift = s.Range(0, cols - 1);
        int32_t begin = 0;
        for (int32_t k = 0; k < stored; ++k) {
          // Columns (shift + j) % cols for j in [begin, counts[k]), ascending.
          int32_t group[kMaxCols];
          int32_t g = 0;
          for (int32_t j = begin; j < counts[k]; ++j) group[g++] = (shift + j) % cols;
          for (int32_t a = 1; a < g; ++a) {
            for (int32_t b = a; b > 0 && group[b - 1] > group[b]; --b) {
              const int32_t tmp = group[b];
              group[b] = group[b - 1];
              group[b - 1] = tmp;
            }
          }
          for (int32_t j = 0; j < g; ++j) {
            idx[nv] = group[j];
            val[nv++] = weight[r][group[j]];
          }
          begin = counts[k];
        }
      }
      n = nv;
    } else {
      int32_t ne = 0;
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t k = 0; k < stored; ++k) {
          for (int32_t e = 0; e < space; ++e) {
            const int32_t c = block ? 2 * e : e;
            if (level_of[r][c] != k) continue;
            idx[ne++] = e;
            val[nv++] = weight[r][c];
            if (block) val[nv++] = c + 1 < cols ? weight[r][c + 1] : 0;
          }
          ptr[r * stored + k + 1] = ne;
        }
      }
      n = ne;
    }
    const int32_t index_type = ks_index_is_u8(space) ? keras_subnets::kTypeUInt8 : keras_subnets::kTypeUInt16;
    if (n > 0) {
      Const1D(&arena, &t[keras_subnets::kIndices], index_type, n, idx);
      if (!o.int8) Const1D(&arena, &t[keras_subnets::kValues], value_type == keras_subnets::kTypeInt8 ? value_type
                                                                                         : keras_subnets::kTypeInt32,
              nv, val);
      if (!o.int8) {  // float values: reinterpret the block as float32
        float* f = static_cast<float*>(t[keras_subnets::kValues].view.data);
        for (int32_t i = 0; i < nv; ++i) f[i] = static_cast<float>(val[i]) / 64.0f;
        t[keras_subnets::kValues].view.type = keras_subnets::kTypeFloat32;
      }
    }
    if (o.format == KS_FORMAT_ROW) {
      Const1D(&arena, &t[keras_subnets::kLevelTable], keras_subnets::kTypeInt32, stored, counts);
    } else {
      Const1D(&arena, &t[keras_subnets::kLevelTable],
              ks_ptr_is_u16(n) ? keras_subnets::kTypeUInt16 : keras_subnets::kTypeInt32, rows * stored + 1, ptr);
    }
  }

  // ---- per-channel tables of all L levels in the layout ----
  int32_t table = o.tables == KS_TABLES_SHARED ? rows : o.tables == KS_TABLES_PER_LEVEL ? L * rows : 0;
  if (o.tables == KS_TABLES_PREFIX) {
    for (int32_t k = 0; k < L; ++k) table += out_w[k];
  }
  if (s.U8() % 16 == 0) table += s.Range(0, 2) - 1;
  if (table < 0) table = 0;
  // Format v5: bias, multiplier (float32: scale), shift (int8) back to back
  // in one uint8 tensor (input 5); inputs 6 and 7 absent.
  const int32_t entry_bytes = o.int8 ? 9 : 8;
  uint8_t* tables = static_cast<uint8_t*>(arena.Alloc(static_cast<size_t>(table) * entry_bytes));
  for (int32_t i = 0; i < table; ++i) {
    const int32_t bias = s.Range(0, 255) * 64 - 8000;
    const uint8_t b = s.U8();
    const int32_t mult =
        b == 0xFF ? INT32_MIN : b == 0xFE ? 0 : static_cast<int32_t>((1u << 30) + (b << 20)) * (b & 1 ? -1 : 1);
    if (o.int8) {  // the kernels read these as int32 arrays: little-endian, 4-aligned
      memcpy(tables + 4 * i, &bias, 4);
      memcpy(tables + 4 * (table + i), &mult, 4);
      const uint8_t sb = s.U8();
      tables[8 * table + i] = static_cast<uint8_t>(sb >= 0xF0 ? static_cast<int8_t>(sb) * 3 : -static_cast<int32_t>(sb % 14));
    } else {  // float tables: finite values
      const float fb = static_cast<float>(i % 5) - 2.0f;
      const float fs = 0.5f + static_cast<float>(i % 3);
      memcpy(tables + 4 * i, &fb, 4);
      memcpy(tables + 4 * (table + i), &fs, 4);
    }
  }
  {
    const int dims[1] = {table * entry_bytes};
    SetTensor(&t[keras_subnets::kTables], keras_subnets::kTypeUInt8, dims, 1, tables);
  }

  // ---- the dense tensor (input 8): TFLite's layout ----
  if (has_dense) {
    n = rows * cols;
    for (int32_t i = 0; i < n; ++i) {
      // Canonical (o, c) of element i of TFLite's layout.
      const int32_t r = dw ? i % rows : i / cols;
      const int32_t c = dw ? i / rows : i % cols;
      fill[i] = weight[r][c];
    }
    Const1D(&arena, &t[keras_subnets::kDense], keras_subnets::kTypeInt8, n, fill);
    int dims[4];
    int32_t rank = 2;
    if (fc) {
      dims[0] = rows;
      dims[1] = cols;
    } else {
      rank = 4;
      dims[0] = dw ? 1 : rows;
      dims[1] = static_cast<int>(o.kernel_h);
      dims[2] = static_cast<int>(o.kernel_w);
      dims[3] = dw ? rows : cin;
    }
    SetTensor(&t[keras_subnets::kDense], keras_subnets::kTypeInt8, dims, rank, t[keras_subnets::kDense].view.data);
  }

  // ---- activations ----
  const int32_t batches = s.Range(1, 2);
  int32_t out_h = 1, out_w_px = 1, in_h = 1, in_w_px = 1;
  if (!fc) {
    in_h = s.Range(1, 6);
    in_w_px = s.Range(1, 6);
    const int32_t eff_h = static_cast<int32_t>((o.kernel_h - 1) * o.dilation_h + 1);
    const int32_t eff_w = static_cast<int32_t>((o.kernel_w - 1) * o.dilation_w + 1);
    const int32_t sh = static_cast<int32_t>(o.stride_h), sw = static_cast<int32_t>(o.stride_w);
    out_h = o.padding == 0 ? (in_h + sh - 1) / sh : (in_h - eff_h + sh) / sh;
    out_w_px = o.padding == 0 ? (in_w_px + sw - 1) / sw : (in_w_px - eff_w + sw) / sw;
    if (out_h < 1) out_h = 1;
    if (out_w_px < 1) out_w_px = 1;
  }
  const size_t vsize = o.int8 ? 1 : 4;
  const int32_t in_count = batches * in_h * in_w_px * cin;
  uint8_t* x = static_cast<uint8_t*>(arena.Alloc(static_cast<size_t>(in_count) * vsize));
  for (int32_t i = 0; i < in_count; ++i) {
    if (o.int8) {
      x[i] = static_cast<uint8_t>(i * 37 + 11);
    } else {
      const float f = static_cast<float>(i % 9) - 4.0f;
      memcpy(x + 4 * i, &f, 4);
    }
  }
  if (fc) {
    const int dims[2] = {batches, cin};
    SetTensor(&t[keras_subnets::kInput], value_type, dims, 2, x);
  } else {
    const int dims[4] = {batches, in_h, in_w_px, cin};
    SetTensor(&t[keras_subnets::kInput], value_type, dims, 4, x);
  }
  int32_t* subnet = static_cast<int32_t*>(arena.Alloc(4));
  const int one[1] = {1};
  SetTensor(&t[keras_subnets::kSubnet], keras_subnets::kTypeInt32, one, 1, subnet);
  const int32_t out_count = batches * out_h * out_w_px * rows;
  void* y = arena.Alloc(static_cast<size_t>(out_count) * vsize);
  Tensor out;
  memset(&out, 0, sizeof(out));
  if (fc) {
    const int dims[2] = {batches, rows};
    SetTensor(&out, value_type, dims, 2, y);
  } else {
    const int dims[4] = {batches, out_h, out_w_px, rows};
    SetTensor(&out, value_type, dims, 4, y);
  }

  // ---- one perturbation ----
  int32_t num_inputs = o.int8 ? (has_dense ? 9 : 8) : 7;
  const uint8_t what = s.U8();
  const int32_t which = s.Range(0, keras_subnets::kMaxInputs - 1);
  TensorView& victim = t[which].view;
  switch (what % 16) {
    case 0:  // another element type
      victim.type = s.Range(0, 17);
      break;
    case 1:  // a dimension one smaller (TFLM gives a tensor as many elements as its dims say, so
             // the data block is never smaller than the dims; here it is larger)
      if (victim.num_dims > 0) t[which].dims[s.U8() % victim.num_dims] -= 1;
      break;
    case 2:  // absent
      victim.present = false;
      victim.data = nullptr;
      break;
    case 3:
      num_inputs += s.Range(0, 2) - 1;
      break;
    case 4:
      o.dense_top = 1 - o.dense_top;
      break;
    case 5:
      o.levels = s.Range(0, 5);
      break;
    case 6:
      o.format = s.Range(0, 5);
      break;
    case 7: {  // a dense tensor of another rank with the same element count
      if (t[keras_subnets::kDense].view.present) {
        t[keras_subnets::kDense].dims[0] = rows * cols;
        t[keras_subnets::kDense].view.num_dims = 1;
      }
      break;
    }
    case 8:
      o.rows = s.Range(1, kMaxRows);
      break;
    case 9:  // a non-constant weight tensor
      victim.data = which >= keras_subnets::kValues ? nullptr : victim.data;
      break;
    case 10: {  // a dense tensor with one dimension one smaller, its data block exactly that size
      TensorView& d = t[keras_subnets::kDense].view;
      if (d.present && d.num_dims > 0) {
        int* dims = t[keras_subnets::kDense].dims;
        dims[s.U8() % d.num_dims] -= 1;
        int64_t count = 1;
        for (int32_t i = 0; i < d.num_dims; ++i) count *= dims[i] > 0 ? dims[i] : 0;
        void* shorter = arena.Alloc(static_cast<size_t>(count));
        memcpy(shorter, d.data, static_cast<size_t>(count));
        d.data = shorter;
      }
      break;
    }
    case 12: {  // tables one entry's byte short, the data block exactly that size
      TensorView& tv = t[keras_subnets::kTables].view;
      if (tv.present && t[keras_subnets::kTables].dims[0] > 0) {
        const int bytes = --t[keras_subnets::kTables].dims[0];
        void* shorter = arena.Alloc(static_cast<size_t>(bytes));
        memcpy(shorter, tv.data, static_cast<size_t>(bytes));
        tv.data = shorter;
      }
      break;
    }
    case 13: {  // input 6 or 7 present (format v5 keeps every table in input 5)
      const int32_t slot = (s.U8() & 1) ? keras_subnets::kUnused6 : keras_subnets::kUnused7;
      t[slot].view = t[keras_subnets::kTables].view;
      break;
    }
    case 11:  // a corrupted dilation, up to 254 (the converter only writes 1)
      if (s.U8() & 1) {
        o.dilation_h = s.Range(2, 254);
      } else {
        o.dilation_w = s.Range(2, 254);
      }
      break;
    default:
      break;
  }

  ErrorMessage error;
  TensorView views[keras_subnets::kMaxInputs];
  for (int32_t i = 0; i < keras_subnets::kMaxInputs; ++i) {
    views[i] = i < num_inputs ? t[i].view : TensorView{false, keras_subnets::kTypeNone, nullptr, 0, nullptr};
  }
  if (!keras_subnets::PrepareOp(data, views, num_inputs, 1, out.view, &error)) return 0;
  // A dilation Prepare accepts spaces real taps (none on a one-tap axis).
  if ((o.kernel_h == 1 && o.dilation_h != 1) || (o.kernel_w == 1 && o.dilation_w != 1)) abort();
  // As the TFLM glue: the persistent block FinishOp fills is all Eval reads;
  // the Prepare-time data is wiped first so Eval cannot lean on it.
  keras_subnets::OpRuntime rt = {};
  void* persistent = arena.Alloc(keras_subnets::PersistentBytes(*data));
  if (!keras_subnets::FinishOp(data, persistent, &rt, &error)) return 0;
  const int64_t levels = o.levels;
  memset(static_cast<void*>(data), 0xA5, sizeof(*data));
  void* scratch = rt.scratch_bytes > 0 ? arena.Alloc(static_cast<size_t>(rt.scratch_bytes)) : nullptr;
  for (int32_t level = -1; level <= levels; ++level) {
    *subnet = level;
    const bool ok = keras_subnets::EvalOp(rt, views, num_inputs, out.view, scratch, &error);
    const bool in_range = level >= 0 && level < levels;
    if (ok != in_range) abort();  // Prepare accepted it: every level in range must run, no other
  }
  return 0;
}
