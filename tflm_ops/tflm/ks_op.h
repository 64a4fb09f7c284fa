/*
 * The KS_* operators independent of any TFLM version: option parsing,
 * Prepare-time validation and Eval, over plain tensor views.
 *
 * Both bindings call only this layer: the TFLM glue (ks_kernel_glue.h with
 * the public TFLM API, fully_connected.cc / conv.cc / depthwise_conv.cc) and
 * the host adapter for the tflite-micro wheel (tflm_ops/host/), whose binary
 * interface differs from the public headers.  So there is one
 * implementation of what a KS_* operator checks and computes.
 *
 * Trust model (docs/format.md §8, §12): everything read from the flatbuffer
 * (options, tensor types, shapes, table lengths and contents) is checked in
 * Prepare; Eval re-checks only the level, read from the `subnet` tensor at
 * every invoke.
 */
#ifndef KS_OP_H_
#define KS_OP_H_

#include <stddef.h>
#include <stdint.h>

#include "ks_dense.h"
#include "ks_ops.h"
#include "ks_plan.h"

namespace keras_subnets {

enum class OpKind : int32_t {
  kFullyConnected = 0,
  kConv2D = 1,
  kDepthwiseConv2D = 2,
};

// The custom code the converter writes for `kind` (KS_FULLY_CONNECTED, ...).
const char* OpName(OpKind kind);

// TfLiteType values used by the operators (stable across TFLite versions).
enum TensorType : int32_t {
  kTypeNone = 0,
  kTypeFloat32 = 1,
  kTypeInt32 = 2,
  kTypeUInt8 = 3,
  kTypeInt8 = 9,
  kTypeUInt16 = 17,
};

// What a binding knows about one tensor: a TfLiteEvalTensor, flattened.
// `present` is false for an optional input given as -1.  `data` is nullptr
// for activations during Prepare (they have no memory yet).
struct TensorView {
  bool present;
  int32_t type;
  const int* dims;  // TfLiteIntArray::data is int (int32_t is long on Arm)
  int32_t num_dims;
  void* data;
};

// Operator inputs in file order (docs/format.md §12).
enum InputIndex : int32_t {
  kInput = 0,
  kSubnet = 1,
  kValues = 2,
  kIndices = 3,
  kLevelTable = 4,
  kBias = 5,
  kScale = 6,       // int8: multiplier, float32: scale
  kShift = 7,       // int8 only
  kDense = 8,       // int8, option dense_top = 1 only: the densest level (format v3)
  kMaxInputs = 9,
};

// Fixed-size message: kernels must not allocate, and firmware should not
// need snprintf for an error path.
class ErrorMessage {
 public:
  ErrorMessage() { Clear(); }
  void Clear();
  ErrorMessage& Append(const char* text);
  ErrorMessage& Append(int64_t value);
  const char* c_str() const { return text_; }
  bool empty() const { return length_ == 0; }

 private:
  static constexpr size_t kCapacity = 160;
  char text_[kCapacity];
  size_t length_;
};

// The flexbuffer options of docs/format.md §12, as integers and floats.
struct OpOptions {
  int64_t version;
  int64_t format;
  int64_t levels;
  int64_t rows;
  int64_t cols;
  int64_t in_channels;
  int64_t depth_multiplier;
  int64_t kernel_h;
  int64_t kernel_w;
  int64_t stride_h;
  int64_t stride_w;
  int64_t dilation_h;
  int64_t dilation_w;
  int64_t padding;  // TFLite Padding: 0 SAME, 1 VALID
  int64_t int8;
  int64_t tables;   // ks_table_layout of bias / multiplier (scale) / shift
  int64_t dense_top;  // format v3: 1 = level L-1 runs ks_dense_* on input kDense
  int64_t input_offset;
  int64_t output_offset;
  int64_t act_min;
  int64_t act_max;
  double act_min_f;
  double act_max_f;
};

// Persistent per-operator state (one per node, allocated by the binding).
struct OpData {
  OpKind kind;
  // Set by Init when the options are unusable, reported by Prepare (Init has
  // no error path in TFLM).  Points to a static string; `init_key` names the
  // option at fault or is nullptr.
  const char* init_error;
  const char* init_key;
  bool init_has_value;
  int64_t init_value;
  OpOptions options;
  bool prepared;
  ks_matrix matrix;
  ks_quant_params quant;
  ks_float_params fparams;
  ks_conv_params conv;
  ks_dims in_dims;
  ks_dims out_dims;
  int32_t batches;        // fully connected
  // Format v3, option dense_top: level L-1 runs ks_dense_* on `dense`
  // (TFLite's layout) with `dense_quant`, whose shifts are int32 copies of
  // level L-1's int8 shifts in a persistent buffer of `dense_shift_count`
  // entries that the binding allocates after PrepareOp (SetDenseShifts).
  bool dense_top;
  const int8_t* dense;
  ks_dense_quant dense_quant;
  int32_t dense_shift_count;
  const int8_t* dense_shift_source;  // level L-1's int8 shifts in the file
  // int8: the calls prepared once (ks_plan.h); Eval runs `plan` for levels
  // the matrix holds and `dense_plan` (made by SetDenseShifts) for level L-1
  // of a dense_top operator.  float32 calls the unplanned kernels.
  ks_plan plan;
  ks_plan dense_plan;
  int32_t scratch_bytes;  // 0: no scratch buffer (max of the sparse and dense kernels')
  int scratch_index;      // from RequestScratchBufferInArena (int, as TFLM)
};

// Init: parses the custom options into `data` (never fails; a problem is
// recorded for Prepare).
void InitOp(OpKind kind, const uint8_t* buffer, size_t length, OpData* data);

// Prepare: checks options, tensor types, lengths (ks_validate_*), shapes
// and geometry, computes padding, and fills the C views of `data`.
// `inputs` has `num_inputs` entries (the node's input count).  On success
// `data->scratch_bytes` tells the binding what to request.
bool PrepareOp(OpData* data, const TensorView* inputs, int32_t num_inputs,
               int32_t num_outputs, const TensorView& output,
               ErrorMessage* error);

// After a successful PrepareOp with data->dense_shift_count > 0: `shifts`
// is persistent memory for that many int32 (the binding allocates it, e.g.
// with AllocatePersistentBuffer); fills it and points the dense kernel's
// requantization at it.  Returns false (with a message) for nullptr.
bool SetDenseShifts(OpData* data, int32_t* shifts, ErrorMessage* error);

// Eval: reads the level from inputs[kSubnet] and runs the kernel core.
// `scratch` must hold `data.scratch_bytes` bytes (nullptr when 0).
bool EvalOp(const OpData& data, const TensorView* inputs, int32_t num_inputs,
            const TensorView& output, void* scratch, ErrorMessage* error);

}  // namespace keras_subnets

#endif  // KS_OP_H_
