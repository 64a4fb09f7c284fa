// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Plain-C reference int8 fully-connected layer with per-channel
 * requantization, following the arithmetic of TFLM's reference integer
 * kernels (gemmlowp-style fixed-point multiply).  Used to validate the
 * instruction counter against the baseline and as ground truth on target.
 */
#ifndef KS_REF_FC_H
#define KS_REF_FC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t input_offset;   /* added to every input value (= -input zero point) */
    int32_t filter_offset;  /* added to every weight (= -weight zero point, usually 0) */
    int32_t output_offset;  /* added after requantization (= output zero point) */
    int32_t act_min;        /* clamp range of the int8 output */
    int32_t act_max;
} ksref_fc_params;

/* (x * multiplier) / 2^31 with rounding, saturating the single overflow case. */
int32_t ksref_srdhm(int32_t a, int32_t b);
/* x / 2^exponent rounded to nearest, ties away from zero. */
int32_t ksref_rounding_divide_by_pot(int32_t x, int exponent);
/* x * multiplier * 2^shift, TFLM's MultiplyByQuantizedMultiplier. */
int32_t ksref_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift);

/*
 * output[o] = clamp(requant(bias[o] + sum_i (input[i] + input_offset) *
 *                                           (w[o][i] + filter_offset),
 *                   multiplier[o], shift[o]) + output_offset)
 * for a batch of `batches` input rows; weights are row-major [out_dim][in_dim].
 * bias may be NULL.
 */
void ksref_fully_connected_s8(const ksref_fc_params *p, int batches, int in_dim, int out_dim,
                              const int8_t *input, const int8_t *weights, const int32_t *bias,
                              const int32_t *multiplier, const int32_t *shift, int8_t *output);

#ifdef __cplusplus
}
#endif
#endif
