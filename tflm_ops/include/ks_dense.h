// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * keras-subnets dense int8 kernels: the densest level of every KS_* operator.
 *
 * A level with every weight (the densest level of a sparse format, or a
 * structured level at full width) is a plain dense layer, so it runs here,
 * on weights stored exactly as TFLite stores them, at the speed of the
 * dense kernels the firmware already has:
 *   - built with -DKS_CMSIS_NN (a TFLM built with OPTIMIZED_KERNEL_DIR=cmsis_nn
 *     puts CMSIS-NN's headers on the include path), these call CMSIS-NN's
 *     arm_fully_connected_per_channel_s8 / arm_convolve_wrapper_s8 /
 *     arm_depthwise_conv_wrapper_s8, the kernels TFLM's own cmsis_nn
 *     operators call for the plain model;
 *   - otherwise portable C, bit-exact with TFLM's reference_integer_ops.
 *
 * The CMSIS-NN build needs the output shape TFLite computes for VALID or
 * SAME padding (CMSIS-NN's 1x1 / 1xN kernels read the input without bounds
 * checks) and returns KS_ERR_ARG otherwise; the portable build accepts any
 * shape and reads positions outside the image as padding.
 *
 * Requantization, CMSIS-NN build: CMSIS-NN multiplies by the (possibly
 * negative) multiplier directly, where TFLite's rule (§5.2) negates the
 * accumulator; the two differ only when the accumulator shifted left by
 * max(shift, 0) is INT32_MIN, which cannot happen when, per channel,
 *     |bias| + 255 * sum|w| < 2^(31 - max(shift, 0))
 * (|x + input_offset| <= 255).  With shift <= 0 (what converters produce
 * for scales below 1) it holds for every channel of up to 65,000 weights
 * and |bias| < 2^30; a caller that cannot guarantee it uses the portable
 * build.  Under the rule
 * both builds and TFLM's reference kernels give identical outputs
 * (tests/cortex_m/dense_qemu_test.py).
 *
 * Weight layouts (TFLite's):
 *   fully connected [rows][cols]                  (rows = output units)
 *   conv            [out.c][kernel_h][kernel_w][in.c]   (OHWI)
 *   depthwise       [kernel_h][kernel_w][out.c]         (out.c = in.c * mult)
 * Requantization per output channel, as ks_quant_params (docs/format.md
 * §5.2) but with int32 shifts (CMSIS-NN's cmsis_nn_per_channel_quant_params
 * takes int32 arrays); a negative multiplier is allowed and means what it
 * means in §5.2.
 *
 * Scratch: a caller buffer of *_get_buffer_size() bytes, 4-byte aligned
 * (NULL when the size is 0).  No heap.
 *
 * Trust model as ks_ops.h: ks_dense_validate_quant() checks the per-channel
 * tables once (at Prepare); the kernels check only O(1) arguments per call.
 * Accumulators wrap modulo 2^32 like TFLM's int32 sums.
 */
#ifndef KS_DENSE_H
#define KS_DENSE_H

#include <stdint.h>

#include "ks_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_dense_quant {
    int32_t input_offset;  /* -input_zero_point, in [-127, 128] */
    int32_t output_offset; /* output_zero_point, in [-128, 127] */
    int32_t act_min;       /* in [-128, 127], act_min <= act_max */
    int32_t act_max;
    const int32_t *bias;       /* [rows], may be NULL */
    const int32_t *multiplier; /* [rows], != INT32_MIN */
    const int32_t *shift;      /* [rows], in [-31, 30] */
} ks_dense_quant;

/* KS_OK when the offsets and activation bounds are in range and every one
 * of the `rows` multipliers is != INT32_MIN and shift in [-31, 30]. */
ks_status ks_dense_validate_quant(const ks_dense_quant *q, int32_t rows);

int32_t ks_dense_fully_connected_s8_get_buffer_size(int32_t rows,
                                                    int32_t cols);
/* input [batches][cols], output [batches][rows]. */
ks_status ks_dense_fully_connected_s8(const int8_t *weights, int32_t rows,
                                      int32_t cols, const ks_dense_quant *q,
                                      int32_t batches, const int8_t *input,
                                      int8_t *output, void *scratch);

int32_t ks_dense_conv_s8_get_buffer_size(const ks_conv_params *cp,
                                         const ks_dims *in,
                                         const ks_dims *out);
ks_status ks_dense_conv_s8(const ks_conv_params *cp, const int8_t *weights,
                           const ks_dense_quant *q, const ks_dims *in,
                           const int8_t *input, const ks_dims *out,
                           int8_t *output, void *scratch);

int32_t ks_dense_depthwise_conv_s8_get_buffer_size(const ks_conv_params *cp,
                                                   const ks_dims *in,
                                                   const ks_dims *out);
ks_status ks_dense_depthwise_conv_s8(const ks_conv_params *cp,
                                     const int8_t *weights,
                                     const ks_dense_quant *q,
                                     const ks_dims *in, const int8_t *input,
                                     const ks_dims *out, int8_t *output,
                                     void *scratch);

#ifdef __cplusplus
}
#endif

#endif /* KS_DENSE_H */
