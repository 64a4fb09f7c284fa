// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_ref_fc.h"

int32_t ksref_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t ksref_rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t ksref_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    int left_shift = shift > 0 ? shift : 0;
    int right_shift = shift > 0 ? 0 : -shift;
    return ksref_rounding_divide_by_pot(
        ksref_srdhm((int32_t)((uint32_t)x << left_shift), multiplier), right_shift);
}

void ksref_fully_connected_s8(const ksref_fc_params *p, int batches, int in_dim, int out_dim,
                              const int8_t *input, const int8_t *weights, const int32_t *bias,
                              const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    for (int b = 0; b < batches; b++) {
        const int8_t *in = input + b * in_dim;
        for (int o = 0; o < out_dim; o++) {
            const int8_t *w = weights + o * in_dim;
            int32_t acc = 0;
            for (int i = 0; i < in_dim; i++) {
                acc += ((int32_t)w[i] + p->filter_offset) * ((int32_t)in[i] + p->input_offset);
            }
            if (bias) {
                acc += bias[o];
            }
            acc = ksref_multiply_by_quantized_multiplier(acc, multiplier[o], shift[o]);
            acc += p->output_offset;
            if (acc < p->act_min) {
                acc = p->act_min;
            }
            if (acc > p->act_max) {
                acc = p->act_max;
            }
            output[b * out_dim + o] = (int8_t)acc;
        }
    }
}
