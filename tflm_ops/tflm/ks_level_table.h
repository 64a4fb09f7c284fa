// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * The level table a keras-subnets file carries (metadata
 * "keras_subnets.level_costs", docs/format.md §12, binary level table), read from the model
 * TFLM already parsed, for the governor in ks_governor.h:
 *
 *   ks_level_table table;
 *   if (keras_subnets::GetLevelTable(tflite::GetModel(g_model), &table) == kTfLiteOk) {
 *     int32_t level = ks_select_level(&table, KS_LEVEL_INSTRUCTIONS_M4, budget);
 *   }
 *
 * The table points into the model's buffer (no copy); it is validated here.
 */
#ifndef KS_LEVEL_TABLE_H_
#define KS_LEVEL_TABLE_H_

#include <string.h>

#include "ks_governor.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace keras_subnets {

constexpr char kLevelCostsMetadata[] = "keras_subnets.level_costs";

// kTfLiteError when the file has no valid level table (a plain file, an older
// keras-subnets file, or a damaged one); `table` is then empty.
inline TfLiteStatus GetLevelTable(const tflite::Model* model, ks_level_table* table) {
  if (model == nullptr || table == nullptr) return kTfLiteError;
  table->data = nullptr;
  table->num_levels = 0;
  table->num_fields = 0;
  const auto* metadata = model->metadata();
  const auto* buffers = model->buffers();
  if (metadata == nullptr || buffers == nullptr) return kTfLiteError;
  for (flatbuffers::uoffset_t i = 0; i < metadata->size(); ++i) {
    const tflite::Metadata* entry = metadata->Get(i);
    if (entry == nullptr || entry->name() == nullptr ||
        strcmp(entry->name()->c_str(), kLevelCostsMetadata) != 0) {
      continue;
    }
    if (entry->buffer() >= buffers->size()) return kTfLiteError;
    const tflite::Buffer* buffer = buffers->Get(entry->buffer());
    if (buffer == nullptr || buffer->data() == nullptr) return kTfLiteError;
    return ks_level_table_init(table, buffer->data()->data(), buffer->data()->size()) == KS_OK
               ? kTfLiteOk
               : kTfLiteError;
  }
  return kTfLiteError;
}

}  // namespace keras_subnets

#endif  // KS_LEVEL_TABLE_H_
