// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_op.h"

#include <string.h>

#include "ks_flexbuffer.h"

// -DKS_NO_FLOAT32: an int8-only firmware leaves the float32 kernels out
// (these calls are their only references, so the linker drops them); a
// float32 file is refused at Prepare.
#if defined(KS_NO_FLOAT32)
#define KS_F32(call) KS_ERR_UNSUPPORTED
#define KS_F32_SIZE(call) (-1)
#else
#define KS_F32(call) (call)
#define KS_F32_SIZE(call) (call)
#endif

namespace keras_subnets {
namespace {

// Dimensions and counts beyond these are refused before any int32 product
// is formed (every size the core computes then fits in int32).
constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr int64_t kMaxElements = INT32_MAX;
constexpr int64_t kMaxGeometry = int64_t{1} << 15;

struct IntOption {
  const char* key;
  int64_t OpOptions::*field;
};

// Keys every KS_* operator carries (keras_subnets/convert/options.py).
constexpr IntOption kCommonOptions[] = {
    {"format", &OpOptions::format},
    {"levels", &OpOptions::levels},
    {"rows", &OpOptions::rows},
    {"cols", &OpOptions::cols},
    {"in_channels", &OpOptions::in_channels},
    {"depth_multiplier", &OpOptions::depth_multiplier},
    {"kernel_h", &OpOptions::kernel_h},
    {"kernel_w", &OpOptions::kernel_w},
    {"stride_h", &OpOptions::stride_h},
    {"stride_w", &OpOptions::stride_w},
    {"dilation_h", &OpOptions::dilation_h},
    {"dilation_w", &OpOptions::dilation_w},
    {"padding", &OpOptions::padding},
    {"int8", &OpOptions::int8},
    {"tables", &OpOptions::tables},
    {"dense_top", &OpOptions::dense_top},
};

constexpr IntOption kInt8Options[] = {
    {"input_offset", &OpOptions::input_offset},
    {"output_offset", &OpOptions::output_offset},
    {"act_min", &OpOptions::act_min},
    {"act_max", &OpOptions::act_max},
};

const char* StatusName(ks_status s) {
  switch (s) {
    case KS_OK:
      return "KS_OK";
    case KS_ERR_ARG:
      return "KS_ERR_ARG";
    case KS_ERR_FORMAT:
      return "KS_ERR_FORMAT";
    case KS_ERR_LEVEL:
      return "KS_ERR_LEVEL";
    case KS_ERR_UNSUPPORTED:
      return "KS_ERR_UNSUPPORTED";
  }
  return "unknown status";
}

const char* TypeName(int32_t type) {
  switch (type) {
    case kTypeFloat32:
      return "float32";
    case kTypeInt32:
      return "int32";
    case kTypeUInt8:
      return "uint8";
    case kTypeInt8:
      return "int8";
    case kTypeUInt16:
      return "uint16";
    default:
      return "unsupported type";
  }
}

const char* InputName(int32_t i) {
  static const char* const kNames[kMaxInputs] = {
      "input", "subnet", "values", "indices", "level table", "tables",
      "input 6", "input 7", "dense weights"};
  return (i >= 0 && i < kMaxInputs) ? kNames[i] : "?";
}

// Starts a message with the operator's custom code.
ErrorMessage& Fail(ErrorMessage* error, OpKind kind) {
  error->Clear();
  return error->Append(OpName(kind)).Append(": ");
}

// Element count of a view, or -1 when a dimension is negative or the
// product exceeds kMaxElements.
int64_t ElementCount(const TensorView& t) {
  if (t.num_dims < 0 || (t.num_dims > 0 && t.dims == nullptr)) return -1;
  int64_t n = 1;
  for (int32_t i = 0; i < t.num_dims; ++i) {
    if (t.dims[i] < 0) return -1;
    n *= t.dims[i];
    if (n > kMaxElements) return -1;
  }
  return n;
}

// Checks presence, type and (optionally) constness of input `i`; returns
// its element count through `count`.
bool CheckTensor(OpKind kind, const TensorView& t, int32_t i, int32_t type,
                 bool constant, int64_t* count, ErrorMessage* error) {
  if (!t.present) {
    Fail(error, kind).Append(InputName(i)).Append(" (input ").Append(i)
        .Append(") is missing");
    return false;
  }
  if (t.type != type) {
    Fail(error, kind).Append(InputName(i)).Append(" (input ").Append(i)
        .Append(") is ").Append(TypeName(t.type)).Append(", expected ")
        .Append(TypeName(type));
    return false;
  }
  if (constant && t.data == nullptr) {
    Fail(error, kind).Append(InputName(i)).Append(" (input ").Append(i)
        .Append(") must be a constant tensor");
    return false;
  }
  *count = ElementCount(t);
  if (*count < 0) {
    Fail(error, kind).Append(InputName(i)).Append(" (input ").Append(i)
        .Append(") has an invalid shape");
    return false;
  }
  return true;
}

bool InRange(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

// Option ranges that do not depend on tensors.
bool CheckOptions(OpKind kind, const OpOptions& o, ErrorMessage* error) {
  struct Range {
    const char* key;
    int64_t value, lo, hi;
  };
  const bool dw = kind == OpKind::kDepthwiseConv2D;
  const bool fc = kind == OpKind::kFullyConnected;
  const Range ranges[] = {
      {"format", o.format, KS_FORMAT_NESTED_CSR, KS_FORMAT_STRUCTURED},
      {"levels", o.levels, 1, KS_MAX_LEVELS},
      {"rows", o.rows, 1, kMaxDim},
      {"cols", o.cols, 1, kMaxDim},
      {"in_channels", o.in_channels, 1, kMaxDim},
      {"depth_multiplier", o.depth_multiplier, dw ? 1 : 0, dw ? kMaxDim : 0},
      {"kernel_h", o.kernel_h, 1, fc ? 1 : kMaxGeometry},
      {"kernel_w", o.kernel_w, 1, fc ? 1 : kMaxGeometry},
      {"stride_h", o.stride_h, 1, fc ? 1 : kMaxGeometry},
      {"stride_w", o.stride_w, 1, fc ? 1 : kMaxGeometry},
      {"dilation_h", o.dilation_h, 1, fc ? 1 : kMaxGeometry},
      {"dilation_w", o.dilation_w, 1, fc ? 1 : kMaxGeometry},
      {"padding", o.padding, 0, 1},
      {"int8", o.int8, 0, 1},
      {"tables", o.tables, KS_TABLES_SHARED, KS_TABLES_PREFIX},
      {"dense_top", o.dense_top, 0, 1},
      {"input_offset", o.int8 ? o.input_offset : 0, -127, 128},
      {"output_offset", o.int8 ? o.output_offset : 0, -128, 127},
      {"act_min", o.int8 ? o.act_min : -128, -128, 127},
      {"act_max", o.int8 ? o.act_max : 127, o.int8 ? o.act_min : -128, 127},
  };
  for (const Range& r : ranges) {
    if (!InRange(r.value, r.lo, r.hi)) {
      Fail(error, kind).Append("option '").Append(r.key).Append("' = ")
          .Append(r.value).Append(" is outside [").Append(r.lo).Append(", ")
          .Append(r.hi).Append("]");
      return false;
    }
  }
  if (o.rows * o.cols > kMaxElements) {
    Fail(error, kind).Append("rows * cols = ").Append(o.rows * o.cols)
        .Append(" is too large");
    return false;
  }
  if (!o.int8 && !(o.act_min_f <= o.act_max_f)) {
    Fail(error, kind).Append("option 'act_min_f' exceeds 'act_max_f' (or is NaN)");
    return false;
  }
#if defined(KS_NO_FLOAT32)
  if (!o.int8) {
    Fail(error, kind).Append("float32 operator, but this firmware was built with KS_NO_FLOAT32 (int8 only)");
    return false;
  }
#endif
  if (!KindBuilt(kind)) {
    Fail(error, kind).Append("this firmware was built without the operator (KS_OPS = ").Append(int64_t{KS_OPS})
        .Append("); build with the flags `keras-subnets export-c` prints for this file");
    return false;
  }
  if (!KS_FORMAT_BUILT(o.format)) {
    static const char* const kNames[] = {"nested_csr", "nested_block", "row", "structured"};
    Fail(error, kind).Append("weight format '").Append(kNames[o.format - 1])
        .Append("', but this firmware was built without it (KS_FORMATS = ").Append(int64_t{KS_FORMATS})
        .Append("); build with the flags `keras-subnets export-c` prints for this file");
    return false;
  }
  return true;
}

// TFLM's ComputeOutSize / ComputePadding (docs/format.md §6).
bool OutputSize(int64_t padding, int64_t in, int64_t k, int64_t stride,
                int64_t dilation, int64_t* out, int64_t* pad) {
  const int64_t effective = (k - 1) * dilation + 1;
  if (padding == 0) {
    *out = (in + stride - 1) / stride;
  } else {
    if (in < effective) return false;
    *out = (in + stride - effective) / stride;
  }
  if (*out < 1) return false;
  const int64_t total = (*out - 1) * stride + effective - in;
  *pad = total > 0 ? total / 2 : 0;
  return true;
}

bool ToDims(const TensorView& t, ks_dims* d) {
  if (t.num_dims != 4) return false;
  d->n = t.dims[0];
  d->h = t.dims[1];
  d->w = t.dims[2];
  d->c = t.dims[3];
  return true;
}

bool PrepareShapes(OpData* data, const TensorView& input,
                   const TensorView& output, int64_t in_count,
                   int64_t out_count, ErrorMessage* error) {
  const OpOptions& o = data->options;
  const OpKind kind = data->kind;
  if (kind == OpKind::kFullyConnected) {
    // Any input shape whose element count is a multiple of cols, as TFLM's
    // FULLY_CONNECTED; structured FC needs cols == in_channels (format §3.4).
    if (o.in_channels != o.cols) {
      Fail(error, kind).Append("in_channels ").Append(o.in_channels)
          .Append(" != cols ").Append(o.cols);
      return false;
    }
    if (in_count % o.cols != 0) {
      Fail(error, kind).Append("input has ").Append(in_count)
          .Append(" elements, not a multiple of cols ").Append(o.cols);
      return false;
    }
    const int64_t batches = in_count / o.cols;
    if (output.num_dims < 1 || output.dims[output.num_dims - 1] != o.rows ||
        out_count != batches * o.rows) {
      Fail(error, kind).Append("output must be [").Append(batches).Append(", ")
          .Append(o.rows).Append("] (").Append(out_count).Append(" elements)");
      return false;
    }
    data->batches = static_cast<int32_t>(batches);
    data->scratch_bytes =
        data->dense_top ? ks_dense_fully_connected_s8_get_buffer_size(
                              static_cast<int32_t>(o.rows), static_cast<int32_t>(o.cols))
                        : 0;
    return true;
  }
  ks_dims in, out;
  if (!ToDims(input, &in) || !ToDims(output, &out)) {
    Fail(error, kind).Append("input and output must be 4-D NHWC");
    return false;
  }
  const int64_t taps = o.kernel_h * o.kernel_w;
  if (in.c != o.in_channels) {
    Fail(error, kind).Append("input has ").Append(in.c)
        .Append(" channels, options say in_channels ").Append(o.in_channels);
    return false;
  }
  if (kind == OpKind::kConv2D && o.cols != taps * in.c) {
    Fail(error, kind).Append("cols ").Append(o.cols).Append(" != kernel_h * kernel_w * in_channels ")
        .Append(taps * in.c);
    return false;
  }
  if (kind == OpKind::kDepthwiseConv2D &&
      (o.cols != taps || o.rows != in.c * o.depth_multiplier)) {
    Fail(error, kind).Append("depthwise needs cols == kernel_h * kernel_w (")
        .Append(taps).Append(") and rows == in_channels * depth_multiplier (")
        .Append(in.c * o.depth_multiplier).Append(")");
    return false;
  }
  // Dilation spaces a filter's taps; a one-tap axis has none to space, so a
  // dilation there is a corrupted option (no converter writes one) that would
  // otherwise pass the size check below.
  if ((o.kernel_h == 1 && o.dilation_h != 1) || (o.kernel_w == 1 && o.dilation_w != 1)) {
    Fail(error, kind).Append("dilation ").Append(o.dilation_h).Append("x").Append(o.dilation_w)
        .Append(" on a ").Append(o.kernel_h).Append("x").Append(o.kernel_w)
        .Append(" filter: an axis with one tap must have dilation 1");
    return false;
  }
  // A dilated filter wider than the input only ever reads padding with some
  // taps, and its window offsets would leave the image by more than the
  // image's size; no converter writes one.
  if ((o.dilation_h > 1 && (o.kernel_h - 1) * o.dilation_h >= in.h) ||
      (o.dilation_w > 1 && (o.kernel_w - 1) * o.dilation_w >= in.w)) {
    Fail(error, kind).Append("dilation ").Append(o.dilation_h).Append("x").Append(o.dilation_w)
        .Append(" spreads the ").Append(o.kernel_h).Append("x").Append(o.kernel_w)
        .Append(" filter wider than the ").Append(in.h).Append("x").Append(in.w).Append(" input");
    return false;
  }
  int64_t out_h = 0, out_w = 0, pad_h = 0, pad_w = 0;
  if (!OutputSize(o.padding, in.h, o.kernel_h, o.stride_h, o.dilation_h,
                  &out_h, &pad_h) ||
      !OutputSize(o.padding, in.w, o.kernel_w, o.stride_w, o.dilation_w,
                  &out_w, &pad_w)) {
    Fail(error, kind).Append("the filter does not fit the ").Append(in.h)
        .Append("x").Append(in.w).Append(" input");
    return false;
  }
  if (out.n != in.n || out.h != out_h || out.w != out_w || out.c != o.rows) {
    Fail(error, kind).Append("output shape must be [").Append(in.n).Append(", ")
        .Append(out_h).Append(", ").Append(out_w).Append(", ").Append(o.rows)
        .Append("]");
    return false;
  }
  ks_conv_params& cp = data->conv;
  cp.kernel_h = static_cast<int32_t>(o.kernel_h);
  cp.kernel_w = static_cast<int32_t>(o.kernel_w);
  cp.stride_h = static_cast<int32_t>(o.stride_h);
  cp.stride_w = static_cast<int32_t>(o.stride_w);
  cp.dilation_h = static_cast<int32_t>(o.dilation_h);
  cp.dilation_w = static_cast<int32_t>(o.dilation_w);
  cp.pad_h = static_cast<int32_t>(pad_h);
  cp.pad_w = static_cast<int32_t>(pad_w);
  cp.depth_multiplier = static_cast<int32_t>(o.depth_multiplier);
  data->in_dims = in;
  data->out_dims = out;
  const bool int8 = o.int8 != 0;
  // KindBuilt: constants, so a build without an operator (KS_OPS) never references its kernels.
  const bool conv = KindBuilt(OpKind::kConv2D) &&
                    (kind == OpKind::kConv2D || !KindBuilt(OpKind::kDepthwiseConv2D));
  if (conv) {
    data->scratch_bytes =
        int8 ? ks_conv_s8_get_buffer_size(&cp, &data->matrix, &in)
             : KS_F32_SIZE(ks_conv_f32_get_buffer_size(&cp, &data->matrix, &in));
  } else if (KindBuilt(OpKind::kDepthwiseConv2D)) {
    data->scratch_bytes =
        int8 ? ks_depthwise_conv_s8_get_buffer_size(&cp, &data->matrix, &in)
             : KS_F32_SIZE(ks_depthwise_conv_f32_get_buffer_size(&cp, &data->matrix, &in));
  }
  if (data->dense_top && data->scratch_bytes >= 0) {
    // One scratch buffer serves whichever kernel the level runs.
    const int32_t dense_bytes = conv ? ks_dense_conv_s8_get_buffer_size(&cp, &in, &out)
                                     : ks_dense_depthwise_conv_s8_get_buffer_size(&cp, &in, &out);
    data->scratch_bytes = dense_bytes < 0 ? dense_bytes
                          : dense_bytes > data->scratch_bytes ? dense_bytes
                                                              : data->scratch_bytes;
  }
  (void)out_count;
  return true;
}

// Format v3: the dense weights (input kDense) hold level L-1 of the op in
// TFLite's layout, exactly rows x cols int8 (v4: also every int8 sparse
// operator's values).
bool CheckDenseShape(OpKind kind, const OpOptions& o, const TensorView& t, int64_t count,
                     int32_t L, ErrorMessage* error) {
  // Format v4: without dense_top an int8 sparse operator's D holds the
  // values of every level (the densest level's weights).
  const bool top_only = o.dense_top != 0;
  int64_t want[4] = {o.rows, o.cols, 0, 0};
  int32_t rank = 2;
  const char* layout = "[rows, cols]";
  if (kind == OpKind::kConv2D) {
    rank = 4;
    want[0] = o.rows;
    want[1] = o.kernel_h;
    want[2] = o.kernel_w;
    want[3] = o.in_channels;
    layout = "[rows, kernel_h, kernel_w, in_channels] (OHWI)";
  } else if (kind == OpKind::kDepthwiseConv2D) {
    rank = 4;
    want[0] = 1;
    want[1] = o.kernel_h;
    want[2] = o.kernel_w;
    want[3] = o.rows;
    layout = "[1, kernel_h, kernel_w, rows]";
  }
  bool ok = t.num_dims == rank && count == o.rows * o.cols;
  for (int32_t i = 0; ok && i < rank; ++i) ok = t.dims[i] == want[i];
  if (!ok) {
    ErrorMessage& m = Fail(error, kind).Append("dense weights (input 8) of level");
    if (top_only) {
      m.Append(" ").Append(int64_t{L - 1});
    } else {
      m.Append("s 0..").Append(int64_t{L - 1});
    }
    m.Append(" must be [");
    for (int32_t i = 0; i < rank; ++i) m.Append(i ? ", " : "").Append(want[i]);
    m.Append("] ").Append(layout).Append(", got [");
    for (int32_t i = 0; i < t.num_dims && i < 8; ++i) {
      m.Append(i ? ", " : "").Append(int64_t{t.dims[i]});
    }
    m.Append("]");
    return false;
  }
  return true;
}

// Format v3: level L-1's requantization for ks_dense_* (its rows of the
// bias / multiplier tables in place; shifts widened later, FinishOp).
// `w` describes all L levels and its tables passed
// ks_validate_quant_params_matrix.
void PrepareDenseQuant(OpData* data, const ks_matrix& w) {
  const ks_quant_params& q = data->quant;
  const int32_t L = w.num_levels;
  int64_t base = 0;
  if (q.per_level == KS_TABLES_PER_LEVEL) {
    base = int64_t{L - 1} * w.rows;
  } else if (q.per_level == KS_TABLES_PREFIX) {
    for (int32_t k = 0; k + 1 < L; ++k) base += w.out_width[k];
  }
  ks_dense_quant& d = data->dense_quant;
  d.input_offset = q.input_offset;
  d.output_offset = q.output_offset;
  d.act_min = q.act_min;
  d.act_max = q.act_max;
  d.bias = q.bias + base;
  d.multiplier = q.multiplier + base;
  d.shift = nullptr;
  data->dense_shift_source = q.shift + base;
  data->dense_shift_count = w.rows;
}

}  // namespace

const char* OpName(OpKind kind) {
  switch (kind) {
    case OpKind::kFullyConnected:
      return "KS_FULLY_CONNECTED";
    case OpKind::kConv2D:
      return "KS_CONV_2D";
    case OpKind::kDepthwiseConv2D:
      return "KS_DEPTHWISE_CONV_2D";
  }
  return "KS_?";
}

void ErrorMessage::Clear() {
  length_ = 0;
  text_[0] = '\0';
}

ErrorMessage& ErrorMessage::Append(const char* text) {
  if (text == nullptr) return *this;
  while (*text != '\0' && length_ + 1 < kCapacity) text_[length_++] = *text++;
  text_[length_] = '\0';
  return *this;
}

ErrorMessage& ErrorMessage::Append(int64_t value) {
  char digits[24];
  size_t n = 0;
  // Work on the negative magnitude so INT64_MIN needs no special case.
  int64_t v = value < 0 ? value : -value;
  do {
    digits[n++] = static_cast<char>('0' - (v % 10));
    v /= 10;
  } while (v != 0);
  if (value < 0) digits[n++] = '-';
  char text[24];
  for (size_t i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  text[n] = '\0';
  return Append(text);
}

namespace {

// Format v5 options (docs/format.md §12, §17): "KSO", the version byte, the
// fields of kCommonOptions (then kInt8Options) as zigzag LEB128 varints of
// at most 5 bytes, or for float32 the two clamp bounds as little-endian
// float32, and nothing after.  Every read is bounds-checked: the record
// comes from an untrusted file.
class OptionReader {
 public:
  OptionReader(const uint8_t* buffer, size_t length) : p_(buffer), n_(length) {}
  bool Varint(int64_t* value) {
    uint32_t z = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (pos_ >= n_) return false;
      const uint8_t byte = p_[pos_++];
      if (shift == 28 && (byte & 0xF0u) != 0) return false;  // beyond 32 bits
      z |= static_cast<uint32_t>(byte & 0x7Fu) << shift;
      if ((byte & 0x80u) == 0) {
        *value = static_cast<int64_t>(static_cast<int32_t>(z >> 1) ^ -static_cast<int32_t>(z & 1u));
        return true;
      }
    }
    return false;
  }
  bool Float32(double* value) {
    if (pos_ > n_ || n_ - pos_ < 4) return false;
    const uint32_t bits = static_cast<uint32_t>(p_[pos_]) | static_cast<uint32_t>(p_[pos_ + 1]) << 8 |
                          static_cast<uint32_t>(p_[pos_ + 2]) << 16 | static_cast<uint32_t>(p_[pos_ + 3]) << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    *value = f;
    pos_ += 4;
    return true;
  }
  bool AtEnd() const { return pos_ == n_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 4;  // after "KSO" and the version byte
};

}  // namespace

void InitOp(OpKind kind, const uint8_t* buffer, size_t length, OpData* data) {
  memset(data, 0, sizeof(*data));
  data->kind = kind;
  OpOptions& o = data->options;
  const bool record = buffer != nullptr && length >= 4 && buffer[0] == 'K' && buffer[1] == 'S' &&
                      buffer[2] == 'O';
  if (!record) {
    // Versions 1-4 wrote a flexbuffer map: read only its version, to refuse
    // the file by name.
    const FlexbufferMap map(buffer, length);
    if (!map.Ok()) {
      data->init_error = "custom options are missing or neither a keras-subnets record nor a flexbuffer map";
      return;
    }
    if (!map.GetInt("version", &o.version)) {
      data->init_error = "custom options lack integer key";
      data->init_key = "version";
      return;
    }
  } else {
    o.version = buffer[3];
  }
  if (o.version != KS_FORMAT_VERSION) {
    data->init_error = "unsupported custom options version";
    data->init_has_value = true;
    data->init_value = o.version;
    return;
  }
  OptionReader reader(buffer, length);
  for (const IntOption& opt : kCommonOptions) {
    if (!reader.Varint(&(o.*opt.field))) {
      data->init_error = "custom options end or overflow int32 at";
      data->init_key = opt.key;
      return;
    }
  }
  if (o.int8 != 0) {
    for (const IntOption& opt : kInt8Options) {
      if (!reader.Varint(&(o.*opt.field))) {
        data->init_error = "custom options end or overflow int32 at";
        data->init_key = opt.key;
        return;
      }
    }
  } else if (!reader.Float32(&o.act_min_f) || !reader.Float32(&o.act_max_f)) {
    data->init_error = "custom options end at";
    data->init_key = "act_min_f/act_max_f";
    return;
  }
  if (!reader.AtEnd()) {
    data->init_error = "custom options run past their last field";
    return;
  }
}

namespace {

// Element counts of the operator's tensors, as CheckOperatorInputs read them.
struct TensorCounts {
  int64_t in = 0, subnet = 0, values = 0, indices = 0, table = 0;
  // Format v5: input 5's bytes, and the entries of each of its tables.
  int64_t table_bytes = 0, table_entries = 0, out = 0, dense = 0;
};

// Format v4: an int8 sparse operator always carries the dense weights D
// (input 8) and reads every level's values from it; structured carries D
// with dense_top.
bool HasDense(const OpOptions& o) {
  return o.int8 != 0 && (o.dense_top != 0 || o.format != KS_FORMAT_STRUCTURED);
}

// Clears what a previous PrepareOp set (TFLM may prepare an operator again).
void ResetPrepared(OpData* data) {
  data->prepared = false;
  data->dense_top = false;
  data->dense = nullptr;
  data->dense_shift_count = 0;
  data->dense_shift_source = nullptr;
  memset(&data->dense_quant, 0, sizeof(data->dense_quant));
}

// Reports the options InitOp could not read.
void ReportInitError(const OpData& data, ErrorMessage* error) {
  ErrorMessage& m = Fail(error, data.kind).Append(data.init_error);
  if (data.init_key != nullptr) m.Append(" '").Append(data.init_key).Append("'");
  if (data.init_has_value) {
    m.Append(" ").Append(data.init_value).Append(" (this kernel reads version ")
        .Append(int64_t{KS_FORMAT_VERSION}).Append("); reconvert with keras_subnets.convert");
  }
}

// The operator's inputs and output against its options: how many there
// are, their types, which are absent, and the dense tensor's shape.
bool CheckOperatorInputs(const OpData& data, const TensorView* inputs, int32_t num_inputs,
                         int32_t num_outputs, const TensorView& output, TensorCounts* n,
                         ErrorMessage* error) {
  const OpKind kind = data.kind;
  const OpOptions& o = data.options;
  const bool int8 = o.int8 != 0;
  const bool dense_top = o.dense_top != 0;
  const int32_t L = static_cast<int32_t>(o.levels);
  const int32_t cols = static_cast<int32_t>(o.cols);
  const int32_t format = static_cast<int32_t>(o.format);
  const bool structured = format == KS_FORMAT_STRUCTURED;
  if (dense_top && !int8) {
    Fail(error, kind).Append("option 'dense_top' = 1 needs the int8 operator (the dense kernels are int8 only)");
    return false;
  }
  if (dense_top && !structured && L < 2) {
    Fail(error, kind).Append("option 'dense_top' = 1 with a sparse format needs at least 2 levels, got ")
        .Append(int64_t{L});
    return false;
  }
  const bool has_dense = HasDense(o);
  const int32_t expected_inputs = int8 ? (has_dense ? 9 : 8) : 7;
  if (num_inputs != expected_inputs || num_outputs != 1) {
    Fail(error, kind).Append("expects ").Append(int64_t{expected_inputs})
        .Append(" inputs and 1 output, got ").Append(int64_t{num_inputs})
        .Append(" and ").Append(int64_t{num_outputs});
    return false;
  }
  const int32_t value_type = int8 ? kTypeInt8 : kTypeFloat32;
  // Every level whose values come from the dense tensor: the values input
  // is absent (-1).
  const bool values_in_dense = has_dense;
  if (!CheckTensor(kind, inputs[kInput], kInput, value_type, false, &n->in, error) ||
      !CheckTensor(kind, inputs[kSubnet], kSubnet, kTypeInt32, false, &n->subnet, error) ||
      (!values_in_dense &&
       !CheckTensor(kind, inputs[kValues], kValues, value_type, true, &n->values, error)) ||
      !CheckTensor(kind, inputs[kTables], kTables, kTypeUInt8, true, &n->table_bytes, error) ||
      (has_dense && !CheckTensor(kind, inputs[kDense], kDense, kTypeInt8, true, &n->dense, error))) {
    return false;
  }
  // Format v5: bias, multiplier (scale) and shift back to back in input 5,
  // each of n entries (int8: 4 + 4 + 1 bytes per entry; float32: 4 + 4).
  if (inputs[kUnused6].present || inputs[kUnused7].present) {
    Fail(error, kind).Append("inputs 6 and 7 must be -1 (format v5 keeps bias, multiplier and shift in input 5)");
    return false;
  }
  const int64_t entry_bytes = int8 ? 9 : 8;
  if (n->table_bytes % entry_bytes != 0 || (reinterpret_cast<uintptr_t>(inputs[kTables].data) & 3u) != 0) {
    Fail(error, kind).Append("tables (input 5) must be 4-byte aligned whole entries of ").Append(entry_bytes)
        .Append(" bytes, got ").Append(n->table_bytes).Append(" bytes");
    return false;
  }
  n->table_entries = n->table_bytes / entry_bytes;
  if (values_in_dense && inputs[kValues].present) {
    Fail(error, kind).Append(structured ? "structured with dense_top" : "an int8 sparse format (version 4)")
        .Append(" reads its values from input 8: input 2 must be -1");
    return false;
  }
  if (int8 && format == KS_FORMAT_NESTED_BLOCK && (cols & 1) != 0) {
    Fail(error, kind).Append("int8 nested_block needs an even number of columns, got ").Append(int64_t{cols})
        .Append(" (version 4 reads a block's two values from input 8; the converter writes nested_csr)");
    return false;
  }
  if (!output.present || output.type != value_type || (n->out = ElementCount(output)) < 0) {
    Fail(error, kind).Append("output must be ").Append(TypeName(value_type));
    return false;
  }
  if (n->subnet < 1) {
    Fail(error, kind).Append("the subnet input must hold one int32 (the level)");
    return false;
  }
  return !has_dense || CheckDenseShape(kind, o, inputs[kDense], n->dense, L, error);
}

// The matrix's index and level arrays: structured's widths, row's counts,
// or nested_csr / nested_block's indices and level pointers.
bool AttachLevelArrays(OpData* data, const TensorView* inputs, TensorCounts* n, ErrorMessage* error) {
  const OpKind kind = data->kind;
  const OpOptions& o = data->options;
  const int32_t L = static_cast<int32_t>(o.levels);
  const int32_t cols = static_cast<int32_t>(o.cols);
  const int32_t format = static_cast<int32_t>(o.format);
  const bool structured = format == KS_FORMAT_STRUCTURED;
  ks_matrix& m = data->matrix;
  const int32_t* level_table = nullptr;
  if (structured || format == KS_FORMAT_ROW) {
    if (!CheckTensor(kind, inputs[kLevelTable], kLevelTable, kTypeInt32, true, &n->table, error)) {
      return false;
    }
    level_table = static_cast<const int32_t*>(inputs[kLevelTable].data);
  }
  if (structured) {
    if (inputs[kIndices].present) {
      Fail(error, kind).Append("the structured format takes no indices (input 3 must be -1)");
      return false;
    }
    // out_width ++ in_width in one tensor: its halves are only meaningful
    // when it holds exactly 2L entries.
    if (n->table != 2 * int64_t{L}) {
      Fail(error, kind).Append("level table has ").Append(n->table)
          .Append(" entries, the structured format needs 2 * levels = ")
          .Append(2 * int64_t{L});
      return false;
    }
    m.out_width = level_table;
    m.in_width = level_table + L;
    m.num_table = L;
  } else {
    const int32_t space = format == KS_FORMAT_NESTED_BLOCK ? (cols + 1) / 2 : cols;
    if (space > 65536) {
      Fail(error, kind).Append("index space ").Append(int64_t{space})
          .Append(" exceeds 65536 (KS_ERR_UNSUPPORTED)");
      return false;
    }
    const int32_t index_type = ks_index_is_u8(space) ? kTypeUInt8 : kTypeUInt16;
    if (!CheckTensor(kind, inputs[kIndices], kIndices, index_type, true, &n->indices, error)) {
      return false;
    }
    m.indices = inputs[kIndices].data;
    m.num_indices = static_cast<int32_t>(n->indices);
    if (format == KS_FORMAT_ROW) {
      m.counts = level_table;
      m.num_table = static_cast<int32_t>(n->table);
    } else {
      // Format v2: the pointers' width follows from the entry count.
      const int32_t ptr_type = ks_ptr_is_u16(m.num_indices) ? kTypeUInt16 : kTypeInt32;
      if (!CheckTensor(kind, inputs[kLevelTable], kLevelTable, ptr_type, true, &n->table, error)) {
        return false;
      }
      m.ptr = inputs[kLevelTable].data;
      m.num_ptr = static_cast<int32_t>(n->table);
    }
  }
  return true;
}

// data->matrix over the weight tensors (values, indices, level table),
// validated against docs/format.md.
bool BuildMatrix(OpData* data, const TensorView* inputs, TensorCounts* n, ErrorMessage* error) {
  const OpKind kind = data->kind;
  const OpOptions& o = data->options;
  const bool int8 = o.int8 != 0;
  const bool dense_top = o.dense_top != 0;
  const int32_t L = static_cast<int32_t>(o.levels);
  const int32_t rows = static_cast<int32_t>(o.rows);
  const int32_t cols = static_cast<int32_t>(o.cols);
  const int32_t format = static_cast<int32_t>(o.format);
  const bool structured = format == KS_FORMAT_STRUCTURED;
  const bool values_in_dense = HasDense(o);
  ks_matrix& m = data->matrix;
  memset(&m, 0, sizeof(m));
  m.format = format;
  m.dtype = int8 ? KS_DTYPE_INT8 : KS_DTYPE_FLOAT32;
  // A sparse format with dense_top stores levels 0..L-2 only.
  m.num_levels = (dense_top && !structured) ? L - 1 : L;
  m.rows = rows;
  m.cols = cols;
  m.values = values_in_dense ? inputs[kDense].data : inputs[kValues].data;
  m.num_values = static_cast<int32_t>(values_in_dense ? n->dense : n->values);
  m.in_channels = static_cast<int32_t>(o.in_channels);
  m.depth_multiplier = static_cast<int32_t>(o.depth_multiplier);
  // TFLite's depthwise filter is tap-major; conv (OHWI) and FC are the
  // canonical rows.
  m.tap_major = (values_in_dense && kind == OpKind::kDepthwiseConv2D) ? 1 : 0;
  if (!AttachLevelArrays(data, inputs, n, error)) return false;
  const ks_status status = ks_validate_matrix(&m);
  if (status != KS_OK) {
    Fail(error, kind).Append("weights violate docs/format.md (").Append(StatusName(status))
        .Append("): format ").Append(int64_t{format}).Append(", ").Append(int64_t{rows})
        .Append("x").Append(int64_t{cols}).Append(", ").Append(int64_t{m.num_levels})
        .Append(dense_top && !structured ? " sparse levels" : " levels").Append("; values ")
        .Append(m.num_values).Append(", indices ").Append(n->indices)
        .Append(", level table ").Append(n->table);
    return false;
  }
  if (dense_top && structured && (m.out_width[L - 1] != rows || m.in_width[L - 1] != m.in_channels)) {
    Fail(error, kind).Append("dense weights (input 8) serve level ").Append(int64_t{L - 1})
        .Append(", which must be at full width (out_width ").Append(int64_t{m.out_width[L - 1]})
        .Append(" of ").Append(int64_t{rows}).Append(", in_width ").Append(int64_t{m.in_width[L - 1]})
        .Append(" of ").Append(int64_t{m.in_channels}).Append(")");
    return false;
  }
  return true;
}

// The per-channel tables (bias, multiplier or scale, shift) in the layout of
// option 'tables', checked against the matrix; the dense kernel's
// requantization when the densest level runs dense.
bool BuildTables(OpData* data, const TensorView* inputs, const TensorCounts& counts, ErrorMessage* error) {
  const OpKind kind = data->kind;
  const OpOptions& o = data->options;
  const bool int8 = o.int8 != 0;
  const bool dense_top = o.dense_top != 0;
  const int32_t L = static_cast<int32_t>(o.levels);
  const int64_t n_entries = counts.table_entries;
  const uint8_t* table_bytes = static_cast<const uint8_t*>(inputs[kTables].data);
  const ks_matrix& m = data->matrix;
  // The per-channel tables describe all L levels, also when the sparse
  // arrays hold only L-1 of them.
  ks_matrix all_levels = m;
  all_levels.num_levels = L;
  // Format v2: option 'tables' gives the layout of bias, multiplier (scale)
  // and shift; all three must hold exactly the entries it implies.
  const int32_t layout = static_cast<int32_t>(o.tables);
  const int32_t table = ks_table_length(&all_levels, layout);
  if (table < 0) {
    Fail(error, kind).Append("option 'tables' = ").Append(o.tables)
        .Append(" (prefix) needs the structured format");
    return false;
  }
  if (n_entries != table) {
    Fail(error, kind).Append("tables (layout ").Append(o.tables).Append(") must have ")
        .Append(int64_t{table}).Append(" entries, input 5 holds ").Append(n_entries);
    return false;
  }
  if (int8) {
    ks_quant_params& q = data->quant;
    q.input_offset = static_cast<int32_t>(o.input_offset);
    q.output_offset = static_cast<int32_t>(o.output_offset);
    q.act_min = static_cast<int32_t>(o.act_min);
    q.act_max = static_cast<int32_t>(o.act_max);
    q.per_level = layout;
    q.bias = reinterpret_cast<const int32_t*>(table_bytes);
    q.multiplier = reinterpret_cast<const int32_t*>(table_bytes + 4 * n_entries);
    q.shift = reinterpret_cast<const int8_t*>(table_bytes + 8 * n_entries);
    const ks_status qs = ks_validate_quant_params_matrix(&q, &all_levels);
    if (qs != KS_OK) {
      Fail(error, kind).Append("requantization tables are invalid (").Append(StatusName(qs))
          .Append("): multipliers must not be INT32_MIN, shifts in [-31, 30]");
      return false;
    }
    if (dense_top) PrepareDenseQuant(data, all_levels);
  } else {
    ks_float_params& f = data->fparams;
    f.act_min = static_cast<float>(o.act_min_f);
    f.act_max = static_cast<float>(o.act_max_f);
    f.per_level = layout;
    f.bias = reinterpret_cast<const float*>(table_bytes);
    f.scale = reinterpret_cast<const float*>(table_bytes + 4 * n_entries);
  }
  if (dense_top) {
    data->dense_top = true;
    data->dense = static_cast<const int8_t*>(inputs[kDense].data);
  }
  return true;
}

// Everything derivable from the tables and shapes, once (ks_plan.h); the
// scratch then covers the plan's.
bool PreparePlan(OpData* data, ErrorMessage* error) {
  const OpKind kind = data->kind;
  ks_status ps = KS_ERR_ARG;
  switch (kind) {
    case OpKind::kFullyConnected:
      if (!KindBuilt(OpKind::kFullyConnected)) break;  // KS_OPS: not in this build
      ps = ks_plan_fully_connected_s8(&data->plan, &data->matrix, &data->quant, data->batches);
      break;
    case OpKind::kConv2D:
      if (!KindBuilt(OpKind::kConv2D)) break;  // KS_OPS: not in this build
      ps = ks_plan_conv_s8(&data->plan, &data->conv, &data->matrix, &data->quant, &data->in_dims,
                           &data->out_dims);
      break;
    case OpKind::kDepthwiseConv2D:
      if (!KindBuilt(OpKind::kDepthwiseConv2D)) break;  // KS_OPS: not in this build
      ps = ks_plan_depthwise_conv_s8(&data->plan, &data->conv, &data->matrix, &data->quant,
                                     &data->in_dims, &data->out_dims);
      break;
  }
  if (ps != KS_OK) {
    Fail(error, kind).Append("cannot prepare the kernel (").Append(StatusName(ps)).Append(")");
    return false;
  }
  const int32_t plan_bytes = ks_plan_scratch_size(&data->plan);
  if (plan_bytes > data->scratch_bytes) data->scratch_bytes = plan_bytes;
  return true;
}

}  // namespace

bool PrepareOp(OpData* data, const TensorView* inputs, int32_t num_inputs,
               int32_t num_outputs, const TensorView& output,
               ErrorMessage* error) {
  ResetPrepared(data);
  if (data->init_error != nullptr) {
    ReportInitError(*data, error);
    return false;
  }
  if (!CheckOptions(data->kind, data->options, error)) return false;
  TensorCounts n;
  if (!CheckOperatorInputs(*data, inputs, num_inputs, num_outputs, output, &n, error) ||
      !BuildMatrix(data, inputs, &n, error) || !BuildTables(data, inputs, n, error) ||
      !PrepareShapes(data, inputs[kInput], output, n.in, n.out, error)) {
    return false;
  }
  if (data->scratch_bytes < 0) {
    Fail(error, data->kind).Append("scratch size is invalid");
    return false;
  }
  if (data->options.int8 != 0 && !PreparePlan(data, error)) return false;
  data->prepared = data->dense_shift_count == 0;  // else SetDenseShifts finishes
  return true;
}

namespace {

bool SetDenseShifts(OpData* data, int32_t* shifts, ErrorMessage* error) {
  if (data->dense_shift_count == 0) return true;
  if (shifts == nullptr || data->dense_shift_source == nullptr) {
    Fail(error, data->kind).Append("no persistent memory for the dense kernel's ")
        .Append(int64_t{data->dense_shift_count}).Append(" int32 shifts");
    data->prepared = false;
    return false;
  }
  const int32_t rows = data->dense_shift_count;
  for (int32_t i = 0; i < rows; ++i) shifts[i] = data->dense_shift_source[i];
  ks_dense_quant& q = data->dense_quant;
  q.shift = shifts;
  const ks_status s = ks_dense_validate_quant(&q, rows);
  if (s != KS_OK) {
    Fail(error, data->kind).Append("level ").Append(data->options.levels - 1)
        .Append(" requantization is invalid for the dense kernel (").Append(StatusName(s)).Append(")");
    return false;
  }
  // ks_dense.h: CMSIS-NN multiplies by a negative multiplier directly where
  // TFLite negates the accumulator; both agree when |bias| + 255 * sum|w| <
  // 2^(31 - max(shift, 0)).  Checked in every build so a file runs (or is
  // refused) alike on the host and on firmware; the converter never writes
  // a file that breaks it.
  const int32_t cols = data->matrix.cols;
  const bool tap_major = data->kind == OpKind::kDepthwiseConv2D;
  for (int32_t o = 0; o < rows; ++o) {
    if (q.multiplier[o] >= 0) continue;
    int64_t bound = q.bias != nullptr ? (q.bias[o] < 0 ? -int64_t{q.bias[o]} : q.bias[o]) : 0;
    for (int32_t c = 0; c < cols; ++c) {
      const int32_t w = data->dense[tap_major ? int64_t{c} * rows + o : int64_t{o} * cols + c];
      bound += 255 * int64_t{w < 0 ? -w : w};
    }
    const int32_t left = shifts[o] > 0 ? shifts[o] : 0;
    if (bound >= (int64_t{1} << (31 - left))) {
      Fail(error, data->kind).Append("level ").Append(data->options.levels - 1).Append(", channel ")
          .Append(int64_t{o}).Append(": negative multiplier with |bias| + 255 * sum|w| = ").Append(bound)
          .Append(" >= 2^").Append(int64_t{31 - left}).Append(" (ks_dense.h); reconvert with dense_top=False");
      return false;
    }
  }
  ks_status ps = KS_ERR_ARG;
  switch (data->kind) {
    case OpKind::kFullyConnected:
      if (!KindBuilt(OpKind::kFullyConnected)) break;  // KS_OPS: not in this build
      ps = ks_plan_dense_fully_connected_s8(&data->dense_plan, data->dense, data->matrix.rows, cols, &q,
                                            data->batches);
      break;
    case OpKind::kConv2D:
      if (!KindBuilt(OpKind::kConv2D)) break;  // KS_OPS: not in this build
      ps = ks_plan_dense_conv_s8(&data->dense_plan, &data->conv, data->dense, &q, &data->in_dims,
                                 &data->out_dims);
      break;
    case OpKind::kDepthwiseConv2D:
      if (!KindBuilt(OpKind::kDepthwiseConv2D)) break;  // KS_OPS: not in this build
      ps = ks_plan_dense_depthwise_conv_s8(&data->dense_plan, &data->conv, data->dense, &q, &data->in_dims,
                                           &data->out_dims);
      break;
  }
  if (ps != KS_OK || ks_plan_scratch_size(&data->dense_plan) > data->scratch_bytes) {
    Fail(error, data->kind).Append("cannot prepare the dense kernel of level ").Append(data->options.levels - 1)
        .Append(" (").Append(StatusName(ps)).Append(")");
    return false;
  }
  data->prepared = true;
  return true;
}

}  // namespace

// Persistent layout: [sparse plan | float32 state] [dense plan] [int32 shifts].
size_t PersistentBytes(const OpData& data) {
  size_t n = data.options.int8 != 0 ? sizeof(ks_plan) : sizeof(FloatState);
  if (data.dense_top) n += sizeof(ks_plan) + sizeof(int32_t) * static_cast<size_t>(data.dense_shift_count);
  return n;
}

bool FinishOp(OpData* data, void* persistent, OpRuntime* rt, ErrorMessage* error) {
  const uint8_t* options = rt->options;
  const size_t options_length = rt->options_length;
  memset(rt, 0, sizeof(*rt));
  rt->kind = data->kind;
  rt->scratch_index = -1;
  rt->options = options;
  rt->options_length = options_length;
  if (persistent == nullptr) {
    Fail(error, data->kind).Append("no persistent memory for the operator's ").Append(int64_t(PersistentBytes(*data)))
        .Append(" bytes of plans");
    return false;
  }
  uint8_t* mem = static_cast<uint8_t*>(persistent);
  const bool int8 = data->options.int8 != 0;
  uint8_t* dense_plan = mem + (int8 ? sizeof(ks_plan) : sizeof(FloatState));
  if (data->dense_top) {
    int32_t* shifts = reinterpret_cast<int32_t*>(dense_plan + sizeof(ks_plan));
    if (!SetDenseShifts(data, shifts, error)) return false;
    memcpy(dense_plan, &data->dense_plan, sizeof(ks_plan));
    rt->dense_plan = reinterpret_cast<const ks_plan*>(dense_plan);
  }
  if (!data->prepared) {
    Fail(error, data->kind).Append("FinishOp without a successful Prepare");
    return false;
  }
  if (int8) {
    memcpy(mem, &data->plan, sizeof(ks_plan));
    rt->plan = reinterpret_cast<const ks_plan*>(mem);
  } else {
    FloatState* f = reinterpret_cast<FloatState*>(mem);
    f->matrix = data->matrix;
    f->fparams = data->fparams;
    f->conv = data->conv;
    f->in_dims = data->in_dims;
    f->out_dims = data->out_dims;
    f->batches = data->batches;
    rt->f32 = f;
  }
  rt->int8 = int8;
  rt->levels = static_cast<int32_t>(data->options.levels);
  rt->scratch_bytes = data->scratch_bytes;
  rt->prepared = true;
  return true;
}

bool EvalOp(const OpRuntime& rt, const TensorView* inputs, int32_t num_inputs,
            const TensorView& output, void* scratch, ErrorMessage* error) {
  const OpKind kind = rt.kind;
  if (!rt.prepared || num_inputs <= kSubnet) {
    Fail(error, kind).Append("invoked without a successful Prepare");
    return false;
  }
  const TensorView& subnet = inputs[kSubnet];
  if (subnet.data == nullptr || inputs[kInput].data == nullptr || output.data == nullptr) {
    Fail(error, kind).Append("input, subnet or output tensor has no data");
    return false;
  }
  const int32_t level = *static_cast<const int32_t*>(subnet.data);
  const int32_t L = rt.levels;
  if (level < 0 || level >= L) {
    Fail(error, kind).Append("level ").Append(int64_t{level})
        .Append(" is out of range: the 'subnet' input must be in [0, ").Append(int64_t{L})
        .Append(")");
    return false;
  }
  if (rt.scratch_bytes > 0 && scratch == nullptr) {
    Fail(error, kind).Append("scratch buffer missing");
    return false;
  }
  const void* in = inputs[kInput].data;
  void* out = output.data;
  ks_status s = KS_ERR_ARG;
  if (rt.int8) {
    const bool dense = rt.dense_plan != nullptr && level == L - 1;
    s = ks_run_s8(dense ? rt.dense_plan : rt.plan, dense ? 0 : level, static_cast<const int8_t*>(in),
                  static_cast<int8_t*>(out), scratch);
    if (s != KS_OK) {
      Fail(error, kind).Append(dense ? "dense kernel" : "kernel").Append(" failed with ").Append(StatusName(s))
          .Append(" at level ").Append(int64_t{level});
      return false;
    }
    return true;
  }
  const FloatState& data = *rt.f32;
  const ks_matrix* w = &data.matrix;
  // float32 (no dense_top, no plans).
  switch (kind) {
    case OpKind::kFullyConnected:
      if (!KindBuilt(OpKind::kFullyConnected)) break;  // KS_OPS: not in this build
      s = KS_F32(ks_fully_connected_f32(w, level, &data.fparams, data.batches, static_cast<const float*>(in),
                                        static_cast<float*>(out)));
      break;
    case OpKind::kConv2D:
      if (!KindBuilt(OpKind::kConv2D)) break;  // KS_OPS: not in this build
      s = KS_F32(ks_conv_f32(&data.conv, w, level, &data.fparams, &data.in_dims, static_cast<const float*>(in),
                             &data.out_dims, static_cast<float*>(out), scratch));
      break;
    case OpKind::kDepthwiseConv2D:
      if (!KindBuilt(OpKind::kDepthwiseConv2D)) break;  // KS_OPS: not in this build
      s = KS_F32(ks_depthwise_conv_f32(&data.conv, w, level, &data.fparams, &data.in_dims,
                                       static_cast<const float*>(in), &data.out_dims, static_cast<float*>(out),
                                       scratch));
      break;
  }
  if (s != KS_OK) {
    Fail(error, kind).Append("kernel failed with ").Append(StatusName(s)).Append(" at level ")
        .Append(int64_t{level});
    return false;
  }
  return true;
}

}  // namespace keras_subnets
