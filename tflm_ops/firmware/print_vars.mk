# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

# Prints, as make assignments, the compilers and flags TFLM's own Makefile
# builds libtensorflow-microlite.a with, so an application (ours or yours) is
# compiled the same way.  Run it next to TFLM's Makefile with the same
# arguments you built the library with:
#
#   cd $TFLM_ROOT && make -s -f tensorflow/lite/micro/tools/make/Makefile \
#       -f /path/to/keras-subnets/tflm_ops/firmware/print_vars.mk \
#       TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp OPTIMIZED_KERNEL_DIR=cmsis_nn \
#       TARGET_TOOLCHAIN_ROOT=/usr/bin/ print-vars > tflm_flags.mk
#
# The output (TFLM_CXX, TFLM_CC, TFLM_AR, TFLM_CXXFLAGS, TFLM_CCFLAGS,
# TFLM_INCLUDES, TFLM_LIB, TFLM_GENDIR) is what tflm_ops/firmware/Makefile
# includes.  Include paths are made absolute (TFLM's are relative to its
# root).  TFLM adds -O2 / -Os per file class; those are not in the flags.

ks_abs_include = $(foreach f,$(1),$(if $(filter -I/%,$(f)),$(f),$(if $(filter -I%,$(f)),-I$(abspath $(patsubst -I%,%,$(f))),$(f))))

.PHONY: print-vars
print-vars:
	@echo 'TFLM_ROOT := $(abspath .)'
	@echo 'TFLM_CXX := $(CXX)'
	@echo 'TFLM_CC := $(CC)'
	@echo 'TFLM_AR := $(AR)'
	@echo 'TFLM_CXXFLAGS := $(CXXFLAGS)'
	@echo 'TFLM_CCFLAGS := $(CCFLAGS)'
	@echo 'TFLM_INCLUDES := $(call ks_abs_include,$(INCLUDES))'
	@echo 'TFLM_LDFLAGS := $(LDFLAGS)'
	@echo 'TFLM_LIBS := $(MICROLITE_LIBS)'
	@echo 'TFLM_GENDIR := $(abspath $(GENDIR))'
	@echo 'TFLM_LIB := $(abspath $(MICROLITE_LIB_PATH))'
