# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

# keras-subnets KS_* operators for TensorFlow Lite Micro, as a CMake library.
#
# For a CMake project that already builds or imports TFLM (Zephyr module,
# ESP-IDF component, Pico SDK app, plain CMake):
#
#   set(KS_TFLM_TARGET tflm)   # your TFLM target: headers, compile definitions, library
#   include(path/to/keras-subnets/tflm_ops/firmware/keras_subnets_tflm.cmake)
#   target_link_libraries(app PRIVATE keras_subnets_tflm)
#
# and in the application: `keras-subnets export-c model.tflite -o model_data.cc`,
# #include "model_data.h", g_model_register_ops(resolver) (see
# tflm_ops/tflm/examples/main.cc).
#
# Options:
#   KS_NO_FLOAT32  leave the float32 kernels out (int8-only firmware; a float32
#                  file is then refused in AllocateTensors with that reason)
#   KS_CMSIS_NN    the densest levels call CMSIS-NN's kernels (TFLM built with
#                  OPTIMIZED_KERNEL_DIR=cmsis_nn; KS_TFLM_TARGET must carry
#                  CMSIS-NN's include directories)
#   KS_NO_DSP      plain C loops even where the Cortex-M DSP extension exists
#   KS_FORMATS     the weight formats to build, a mask (bit format id - 1; e.g.
#                  0x1 nested_csr only, 0x8 structured only; default all):
#                  `keras-subnets export-c` prints the one a file needs; the
#                  other formats' kernels stay out of the image and a file
#                  that needs one is refused in AllocateTensors, by name
#   KS_OPS         the operators to build, a mask (bit 0 KS_FULLY_CONNECTED,
#                  1 KS_CONV_2D, 2 KS_DEPTHWISE_CONV_2D; default all), likewise
#
# Compile with the flags your TFLM library was built with (print_vars.mk
# prints them for TFLM's make build): at least TF_LITE_STATIC_MEMORY, and
# KS_SINGLE_ROUNDING=1 if TFLM was built with TFLITE_SINGLE_ROUNDING=1.

cmake_minimum_required(VERSION 3.13)

option(KS_NO_FLOAT32 "keras-subnets: leave the float32 kernels out" OFF)
option(KS_CMSIS_NN "keras-subnets: call CMSIS-NN for the densest levels" OFF)
option(KS_NO_DSP "keras-subnets: no Cortex-M DSP loops" OFF)
set(KS_FORMATS "" CACHE STRING "keras-subnets: weight formats to build (mask; empty: all)")
set(KS_OPS "" CACHE STRING "keras-subnets: operators to build (mask; empty: all)")

get_filename_component(_KS_OPS "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
file(GLOB _KS_CORE_SOURCES CONFIGURE_DEPENDS "${_KS_OPS}/core/*.c")

add_library(keras_subnets_tflm STATIC
  ${_KS_CORE_SOURCES}
  ${_KS_OPS}/tflm/fully_connected.cc
  ${_KS_OPS}/tflm/conv.cc
  ${_KS_OPS}/tflm/depthwise_conv.cc
  ${_KS_OPS}/tflm/ks_op.cc
  ${_KS_OPS}/tflm/ks_flexbuffer.cc)
target_include_directories(keras_subnets_tflm
  PUBLIC ${_KS_OPS}/include ${_KS_OPS}/tflm
  PRIVATE ${_KS_OPS}/core)
set_target_properties(keras_subnets_tflm PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                      CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
target_compile_options(keras_subnets_tflm PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fno-threadsafe-statics>)
target_compile_definitions(keras_subnets_tflm PUBLIC TF_LITE_STATIC_MEMORY
  $<$<BOOL:${KS_NO_FLOAT32}>:KS_NO_FLOAT32>
  $<$<BOOL:${KS_CMSIS_NN}>:KS_CMSIS_NN>
  $<$<BOOL:${KS_NO_DSP}>:KS_NO_DSP>
  $<$<BOOL:${KS_FORMATS}>:KS_FORMATS=${KS_FORMATS}>
  $<$<BOOL:${KS_OPS}>:KS_OPS=${KS_OPS}>)
if(KS_TFLM_TARGET)
  target_link_libraries(keras_subnets_tflm PUBLIC ${KS_TFLM_TARGET})
endif()
