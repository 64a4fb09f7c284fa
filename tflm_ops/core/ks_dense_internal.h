// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Internal helpers of the portable dense kernels (ks_dense.h).  Not part of
 * the public API.
 */
#ifndef KS_DENSE_INTERNAL_H
#define KS_DENSE_INTERNAL_H

#include <stdint.h>

#include "ks_dense.h"
#include "ks_internal.h"
#include "ks_requant.h"

/* Epilogue constants copied out of ks_dense_quant once per call: outputs are
 * int8_t, which may alias anything, so reading through the struct would
 * reload every field after every store. */
typedef struct ks__dq {
    const int32_t *bias;
    const int32_t *mult;
    const int32_t *shift;
    int32_t in_off;
    int32_t out_off;
    int32_t act_min;
    int32_t act_max;
} ks__dq;

static inline ks__dq ks__dq_make(const ks_dense_quant *q)
{
    ks__dq e;
    e.bias = q->bias;
    e.mult = q->multiplier;
    e.shift = q->shift;
    e.in_off = q->input_offset;
    e.out_off = q->output_offset;
    e.act_min = q->act_min;
    e.act_max = q->act_max;
    return e;
}

/* Bias, requantization (§5.2 sign rule), output offset and clamp of output
 * channel o, bit-exact with TFLM's reference_integer_ops. */
static inline int8_t ks__dq_out(int32_t acc, int32_t o, const ks__dq *e)
{
    ks__rq r;
    if (e->bias != NULL) {
        acc = ks__wrap_add(acc, e->bias[o]);
    }
    r = ks__rq_make(e->mult[o], e->shift[o]);
    return ks__rq_apply(acc, &r, e->out_off, e->act_min, e->act_max);
}

/* O(1) checks of the scalar fields and pointers of `q` (the tables are
 * checked once by ks_dense_validate_quant()). */
static inline int32_t ks__dense_quant_ok(const ks_dense_quant *q)
{
    return q != NULL && q->multiplier != NULL && q->shift != NULL && q->input_offset >= -127 &&
           q->input_offset <= 128 && q->output_offset >= -128 && q->output_offset <= 127 &&
           q->act_min >= -128 && q->act_max <= 127 && q->act_min <= q->act_max;
}

/* The checks every dense conv / depthwise kernel (portable or CMSIS-NN)
 * starts with: the geometry, then the weights and the O(1) fields of `q`. */
static inline ks_status ks__dense_conv_args(const ks_conv_params *cp, const int8_t *weights,
                                            const ks_dense_quant *q, const ks_dims *in, const ks_dims *out)
{
    const ks_status s = ks__check_conv_args(cp, in, out);
    if (s != KS_OK) {
        return s;
    }
    return weights != NULL && ks__dense_quant_ok(q) ? KS_OK : KS_ERR_ARG;
}

/* 1 when a depthwise conv's output channels are its input channels times
 * its depth multiplier (>= 1). */
static inline int32_t ks__dense_dw_channels_ok(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    return cp->depth_multiplier >= 1 && (int64_t)in->c * cp->depth_multiplier == out->c;
}

/* 1 when each non-empty tensor has a buffer (the portable kernels accept
 * NULL for an empty one). */
static inline int32_t ks__dense_buffers_ok(const ks_dims *in, const int8_t *input, const ks_dims *out,
                                           const int8_t *output)
{
    return ((int64_t)in->n * in->h * in->w * in->c <= 0 || input != NULL) &&
           ((int64_t)out->n * out->h * out->w * out->c <= 0 || output != NULL);
}

/* 1 when every output pixel of a 1x1 conv reads an input pixel (no
 * padding, and the output shape stays inside the image). */
static inline int32_t ks__conv_1x1_direct(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    return cp->kernel_h == 1 && cp->kernel_w == 1 && cp->pad_h == 0 && cp->pad_w == 0 &&
           (out->h == 0 || (int64_t)(out->h - 1) * cp->stride_h < in->h) &&
           (out->w == 0 || (int64_t)(out->w - 1) * cp->stride_w < in->w);
}

/*
 * Every row of the dense matrix w[rows][cols] against one or two int8
 * vectors: y0[o] = out(w[o] . (x0 + input_offset)), likewise y1 from x1 when
 * x1 != NULL.  Two vectors share each weight load (conv pixels, FC batches).
 */
void ks__dense_rows_s8(const int8_t *w, int32_t rows, int32_t cols, const int8_t *x0, const int8_t *x1,
                       const ks__dq *e, int8_t *y0, int8_t *y1);

#endif /* KS_DENSE_INTERNAL_H */
