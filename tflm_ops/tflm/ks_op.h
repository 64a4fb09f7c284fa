// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

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

// KS_OPS: the operators this build runs, bit (OpKind) for each (default 0x7:
// all three).  A firmware for known files defines only their operators
// (`keras-subnets export-c` prints the flag), so the other operators' plans
// and kernels are never referenced and the linker leaves them out; Prepare
// refuses an operator left out by name.  Flash only, like KS_FORMATS.
#ifndef KS_OPS
#define KS_OPS 0x7
#endif
constexpr bool KindBuilt(OpKind kind) { return ((KS_OPS >> static_cast<int32_t>(kind)) & 1) != 0; }

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
  kTables = 5,      // format v5: bias, multiplier (float32: scale), shift (int8) back to back, uint8
  kUnused6 = 6,     // -1 (versions 1-4: multiplier / scale)
  kUnused7 = 7,     // -1 (versions 1-4: shift)
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

// What Prepare works on (a binding keeps it on the stack for the duration of
// Prepare: only `OpRuntime` and what FinishOp places in persistent memory
// stay in the arena, docs/format.md §7).
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
  // level L-1's int8 shifts in persistent memory (FinishOp).
  bool dense_top;
  const int8_t* dense;
  ks_dense_quant dense_quant;
  int32_t dense_shift_count;
  const int8_t* dense_shift_source;  // level L-1's int8 shifts in the file
  // int8: the calls prepared once (ks_plan.h): `plan` for the levels the
  // matrix holds, `dense_plan` (made by FinishOp) for level L-1 of a
  // dense_top operator.  FinishOp copies them into persistent memory.
  ks_plan plan;
  ks_plan dense_plan;
  int32_t scratch_bytes;  // 0: no scratch buffer (max of the sparse and dense kernels')
};

// float32 operators run the unplanned kernels on these (persistent memory).
struct FloatState {
  ks_matrix matrix;
  ks_float_params fparams;
  ks_conv_params conv;
  ks_dims in_dims;
  ks_dims out_dims;
  int32_t batches;
};

// Persistent per-operator state, all Eval reads (one per node, allocated by
// the binding at Init).  `plan`, `dense_plan` and `f32` point into the
// persistent block FinishOp fills: an int8 operator keeps one plan, or two
// with dense_top, instead of every Prepare-time view.
struct OpRuntime {
  OpKind kind;
  bool prepared;
  bool int8;
  int32_t levels;
  int32_t scratch_bytes;  // 0: no scratch buffer
  int scratch_index;      // from RequestScratchBufferInArena (int, as TFLM)
  const ks_plan* plan;
  const ks_plan* dense_plan;  // nullptr without dense_top
  const FloatState* f32;
  // The custom options (in the flatbuffer, which outlives the interpreter):
  // Init records them, Prepare parses them into its OpData.
  const uint8_t* options;
  size_t options_length;
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

// Bytes of persistent memory FinishOp needs after a successful PrepareOp:
// the plan(s) (or the float32 state) and the dense kernel's int32 shifts.
size_t PersistentBytes(const OpData& data);

// After a successful PrepareOp: `persistent` holds PersistentBytes(*data)
// bytes, 8-byte aligned (the binding allocates it, e.g. with
// AllocatePersistentBuffer).  Widens the dense shifts there, prepares the
// dense kernel, copies what Eval reads there and fills `rt`.  Returns false
// (with a message) for nullptr or a refused dense kernel.
bool FinishOp(OpData* data, void* persistent, OpRuntime* rt, ErrorMessage* error);

// Eval: reads the level from inputs[kSubnet] and runs the kernel core.
// Only inputs[kInput] and inputs[kSubnet] are read (`num_inputs` >= 2).
// `scratch` must hold `rt.scratch_bytes` bytes (nullptr when 0).
bool EvalOp(const OpRuntime& rt, const TensorView* inputs, int32_t num_inputs,
            const TensorView& output, void* scratch, ErrorMessage* error);

}  // namespace keras_subnets

#endif  // KS_OP_H_
