/*
 * Init / Prepare / Eval of a KS_* operator, written once for any TFLM-like
 * binary interface.
 *
 * `Api` describes one interface (see TflmApi in ks_tflm_api.h for the
 * public TFLM headers and WheelApi in tflm_ops/host/ for the tflite-micro
 * wheel):
 *
 *   using Context, Node, EvalTensor, Status;   kOk, kError
 *   void* AllocatePersistentBuffer(Context*, size_t)
 *   const EvalTensor* GetEvalTensor(const Context*, int tensor_index)
 *   bool RequestScratchBufferInArena(Context*, size_t, int* index)
 *   void* GetScratchBuffer(Context*, int index)
 *   void Report(Context*, const char* message)
 *
 * Node needs `inputs`, `outputs` (TfLiteIntArray*: size, data[]) and
 * `user_data`; EvalTensor needs `data.data`, `dims`, `type`.  Those layouts
 * are the same in every TFLM since 2021, so the difference between bindings
 * is confined to the five functions above.
 *
 * Eval tensors (not TfLiteTensor) are used in Prepare as well: their type,
 * dims and, for constants, data are set before Prepare, and they avoid the
 * TfLiteTensor layout, which differs between TFLM builds.
 */
#ifndef KS_KERNEL_GLUE_H_
#define KS_KERNEL_GLUE_H_

#include <stddef.h>
#include <stdint.h>

#include "ks_op.h"

namespace keras_subnets {

template <class Api, OpKind kKind>
struct KernelGlue {
  using Context = typename Api::Context;
  using Node = typename Api::Node;
  using Status = typename Api::Status;

  static void* Init(Context* context, const char* buffer, size_t length) {
    void* raw = Api::AllocatePersistentBuffer(context, sizeof(OpData));
    if (raw == nullptr) return nullptr;  // Prepare reports it
    OpData* data = static_cast<OpData*>(raw);
    InitOp(kKind, reinterpret_cast<const uint8_t*>(buffer), length, data);
    return data;
  }

  static Status Prepare(Context* context, Node* node) {
    OpData* data = static_cast<OpData*>(node->user_data);
    ErrorMessage error;
    if (data == nullptr) {
      error.Append(OpName(kKind)).Append(": no persistent memory for the operator data");
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    TensorView inputs[kMaxInputs];
    TensorView output;
    const int32_t num_inputs = GatherInputs(context, node, inputs);
    const int32_t num_outputs = OutputView(context, node, &output);
    if (!PrepareOp(data, inputs, num_inputs, num_outputs, output, &error)) {
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    if (data->dense_shift_count > 0) {
      // CMSIS-NN takes int32 shift arrays: widened once, kept for Eval.
      void* shifts = Api::AllocatePersistentBuffer(
          context, sizeof(int32_t) * static_cast<size_t>(data->dense_shift_count));
      if (!SetDenseShifts(data, static_cast<int32_t*>(shifts), &error)) {
        Api::Report(context, error.c_str());
        return Api::kError;
      }
    }
    data->scratch_index = -1;
    if (data->scratch_bytes > 0 &&
        !Api::RequestScratchBufferInArena(
            context, static_cast<size_t>(data->scratch_bytes), &data->scratch_index)) {
      error.Append(OpName(kKind)).Append(": cannot reserve ")
          .Append(int64_t{data->scratch_bytes}).Append(" scratch bytes in the arena");
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    return Api::kOk;
  }

  static Status Eval(Context* context, Node* node) {
    const OpData* data = static_cast<const OpData*>(node->user_data);
    ErrorMessage error;
    if (data == nullptr) {
      error.Append(OpName(kKind)).Append(": operator data missing");
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    TensorView inputs[kMaxInputs];
    TensorView output;
    const int32_t num_inputs = GatherInputs(context, node, inputs);
    OutputView(context, node, &output);
    void* scratch = data->scratch_bytes > 0
                        ? Api::GetScratchBuffer(context, data->scratch_index)
                        : nullptr;
    if (!EvalOp(*data, inputs, num_inputs, output, scratch, &error)) {
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    return Api::kOk;
  }

 private:
  static TensorView View(const Context* context, int tensor_index) {
    TensorView v = {false, kTypeNone, nullptr, 0, nullptr};
    if (tensor_index < 0) return v;  // optional input given as -1
    const typename Api::EvalTensor* t = Api::GetEvalTensor(context, tensor_index);
    if (t == nullptr) return v;
    v.present = true;
    v.type = static_cast<int32_t>(t->type);
    v.data = t->data.data;
    if (t->dims != nullptr) {
      v.dims = t->dims->data;
      v.num_dims = t->dims->size;
    }
    return v;
  }

  // Views of at most kMaxInputs inputs; returns the node's input count so
  // Prepare can refuse a node with too many.
  static int32_t GatherInputs(const Context* context, const Node* node, TensorView* views) {
    const int32_t n = node->inputs != nullptr ? node->inputs->size : 0;
    for (int32_t i = 0; i < kMaxInputs; ++i) {
      views[i] = i < n ? View(context, node->inputs->data[i])
                       : View(context, -1);
    }
    return n;
  }

  static int32_t OutputView(const Context* context, const Node* node, TensorView* view) {
    const int32_t n = node->outputs != nullptr ? node->outputs->size : 0;
    *view = View(context, n > 0 ? node->outputs->data[0] : -1);
    return n;
  }
};

}  // namespace keras_subnets

#endif  // KS_KERNEL_GLUE_H_
