// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

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
#include <string.h>

#include "ks_op.h"

namespace keras_subnets {

template <class Api, OpKind kKind>
struct KernelGlue {
  using Context = typename Api::Context;
  using Node = typename Api::Node;
  using Status = typename Api::Status;

  // Init keeps only the small OpRuntime (and where the options are); Prepare
  // parses them into an OpData on the stack, and what Eval reads goes into
  // one persistent block sized by PersistentBytes.
  static void* Init(Context* context, const char* buffer, size_t length) {
    void* raw = Api::AllocatePersistentBuffer(context, sizeof(OpRuntime));
    if (raw == nullptr) return nullptr;  // Prepare reports it
    OpRuntime* rt = static_cast<OpRuntime*>(raw);
    memset(rt, 0, sizeof(*rt));
    rt->kind = kKind;
    rt->scratch_index = -1;
    rt->options = reinterpret_cast<const uint8_t*>(buffer);
    rt->options_length = length;
    return rt;
  }

  static Status Prepare(Context* context, Node* node) {
    OpRuntime* rt = static_cast<OpRuntime*>(node->user_data);
    ErrorMessage error;
    if (rt == nullptr) {
      error.Append(OpName(kKind)).Append(": no persistent memory for the operator data");
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    rt->prepared = false;
    OpData data;
    InitOp(kKind, rt->options, rt->options_length, &data);
    TensorView inputs[kMaxInputs];
    TensorView output;
    const int32_t num_inputs = GatherInputs(context, node, inputs, kMaxInputs);
    const int32_t num_outputs = OutputView(context, node, &output);
    if (!PrepareOp(&data, inputs, num_inputs, num_outputs, output, &error)) {
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    void* persistent = Api::AllocatePersistentBuffer(context, PersistentBytes(data));
    if (!FinishOp(&data, persistent, rt, &error)) {
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    if (rt->scratch_bytes > 0 &&
        !Api::RequestScratchBufferInArena(
            context, static_cast<size_t>(rt->scratch_bytes), &rt->scratch_index)) {
      rt->prepared = false;
      error.Append(OpName(kKind)).Append(": cannot reserve ")
          .Append(int64_t{rt->scratch_bytes}).Append(" scratch bytes in the arena");
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    return Api::kOk;
  }

  // Eval looks up only what it reads: the input, the subnet and the output.
  static Status Eval(Context* context, Node* node) {
    const OpRuntime* rt = static_cast<const OpRuntime*>(node->user_data);
    if (rt == nullptr) {
      ErrorMessage error;
      error.Append(OpName(kKind)).Append(": operator data missing");
      Api::Report(context, error.c_str());
      return Api::kError;
    }
    TensorView inputs[kSubnet + 1];
    TensorView output;
    const int32_t n = GatherInputs(context, node, inputs, kSubnet + 1);
    const int32_t num_inputs = n < kSubnet + 1 ? n : kSubnet + 1;
    OutputView(context, node, &output);
    void* scratch = rt->scratch_bytes > 0
                        ? Api::GetScratchBuffer(context, rt->scratch_index)
                        : nullptr;
    ErrorMessage error;
    if (!EvalOp(*rt, inputs, num_inputs, output, scratch, &error)) {
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

  // Views of the first `count` inputs; returns the node's input count so
  // Prepare can refuse a node with too many (Eval: at most `count`).
  static int32_t GatherInputs(const Context* context, const Node* node, TensorView* views, int32_t count) {
    const int32_t n = node->inputs != nullptr ? node->inputs->size : 0;
    for (int32_t i = 0; i < count; ++i) {
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
