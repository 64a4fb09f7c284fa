// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Internal: ks_dense.h arguments as CMSIS-NN structs, filled exactly as
 * TFLM's kernels/cmsis_nn/{fully_connected,conv,depthwise_conv}.cc fill
 * them for the plain model.  Only for builds with -DKS_CMSIS_NN.
 */
#ifndef KS_DENSE_CMSIS_NN_H
#define KS_DENSE_CMSIS_NN_H

#include "arm_nnfunctions.h"
#include "ks_dense_internal.h"
#include "ks_plan.h"

static inline cmsis_nn_dims ks__nn_dims(int32_t n, int32_t h, int32_t w, int32_t c)
{
    cmsis_nn_dims d;
    d.n = n;
    d.h = h;
    d.w = w;
    d.c = c;
    return d;
}

/* The ks_dense_quant tables are const; CMSIS-NN's struct is not, but
 * CMSIS-NN only reads them. */
static inline cmsis_nn_per_channel_quant_params ks__nn_quant(const ks_dense_quant *q)
{
    cmsis_nn_per_channel_quant_params p;
    p.multiplier = (int32_t *)(uintptr_t)q->multiplier;
    p.shift = (int32_t *)(uintptr_t)q->shift;
    return p;
}

static inline cmsis_nn_conv_params ks__nn_conv_params(const ks_conv_params *cp, const ks_dense_quant *q)
{
    cmsis_nn_conv_params p;
    p.input_offset = q != NULL ? q->input_offset : 0;
    p.output_offset = q != NULL ? q->output_offset : 0;
    p.stride.h = cp->stride_h;
    p.stride.w = cp->stride_w;
    p.padding.h = cp->pad_h;
    p.padding.w = cp->pad_w;
    p.dilation.h = cp->dilation_h;
    p.dilation.w = cp->dilation_w;
    p.activation.min = q != NULL ? q->act_min : -128;
    p.activation.max = q != NULL ? q->act_max : 127;
    return p;
}

/* The conv's fields, plus the channel multiplier. */
static inline cmsis_nn_dw_conv_params ks__nn_dw_params(const ks_conv_params *cp, const ks_dense_quant *q)
{
    const cmsis_nn_conv_params c = ks__nn_conv_params(cp, q);
    cmsis_nn_dw_conv_params p;
    p.input_offset = c.input_offset;
    p.output_offset = c.output_offset;
    p.ch_mult = cp->depth_multiplier;
    p.stride = c.stride;
    p.padding = c.padding;
    p.dilation = c.dilation;
    p.activation = c.activation;
    return p;
}

/* One spatial dimension as TFLite computes it for VALID (pad 0) or SAME
 * padding.  CMSIS-NN's 1x1 and row kernels index the input without bounds
 * checks, so the CMSIS-NN build refuses any other output size (the portable
 * build treats positions outside the image as padding instead), and sizes
 * CMSIS-NN keeps in uint16. */
static inline int32_t ks__nn_dim_ok(int32_t in, int32_t out, int32_t k, int32_t s, int32_t d, int32_t pad)
{
    int32_t eff;
    int32_t total;
    /* 32-bit only: a 64-bit division is a library call of ~100 instructions
     * per call.  in, out, k, s, d >= 1 (ks__check_conv_args). */
    if (in < 1 || out < 1 || in > 65535 || out > 65535 || k > 65535 || d > 65535 || s > 65535 ||
        k - 1 > (65535 - 1) / d) {
        return 0;
    }
    eff = (k - 1) * d + 1;
    if (pad == 0 && eff <= in && out == (in - eff) / s + 1) {
        return 1;
    }
    if (out != (in + s - 1) / s) {
        return 0;
    }
    total = (out - 1) * s + eff - in;
    return pad == (total > 0 ? total / 2 : 0);
}

static inline int32_t ks__nn_geometry_ok(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out)
{
    return ks__nn_dim_ok(in->h, out->h, cp->kernel_h, cp->stride_h, cp->dilation_h, cp->pad_h) &&
           ks__nn_dim_ok(in->w, out->w, cp->kernel_w, cp->stride_w, cp->dilation_w, cp->pad_w) &&
           in->c <= 65535 && out->c <= 65535;
}

/* What a dense plan keeps in ks_plan.nn (built at Prepare). */
typedef struct ks__nn_plan {
    int32_t buf_size;
    cmsis_nn_per_channel_quant_params pq;
    cmsis_nn_dims in_dims;
    cmsis_nn_dims filter_dims;
    cmsis_nn_dims bias_dims;
    cmsis_nn_dims out_dims;
    union {
        cmsis_nn_fc_params fc;
        cmsis_nn_conv_params conv;
        cmsis_nn_dw_conv_params dw;
    } u;
} ks__nn_plan;

/* Compile-time check that ks_plan.nn holds it (C99: no _Static_assert). */
typedef char ks__nn_plan_fits[sizeof(ks__nn_plan) <= sizeof(((ks_plan *)0)->nn) ? 1 : -1];

static inline ks__nn_plan *ks__nn_plan_of(ks_plan *p)
{
    return (ks__nn_plan *)(void *)&p->nn;
}

static inline const ks__nn_plan *ks__nn_plan_of_c(const ks_plan *p)
{
    return (const ks__nn_plan *)(const void *)&p->nn;
}

/* The per-channel quantization (when q != NULL; a buffer size needs none)
 * and the dims TFLM's cmsis_nn CONV_2D and DEPTHWISE_CONV_2D pass: NHWC
 * input and output, a 1 x kh x kw x filter_c filter (filter_c = in->c for a
 * conv, out->c for a depthwise conv) and one bias per output channel. */
static inline void ks__nn_conv_dims(ks__nn_plan *n, const ks_dense_quant *q, const ks_conv_params *cp,
                                    const ks_dims *in, const ks_dims *out, int32_t filter_c)
{
    if (q != NULL) {
        n->pq = ks__nn_quant(q);
    }
    n->in_dims = ks__nn_dims(in->n, in->h, in->w, in->c);
    n->filter_dims = ks__nn_dims(1, cp->kernel_h, cp->kernel_w, filter_c);
    n->bias_dims = ks__nn_dims(1, 1, 1, out->c);
    n->out_dims = ks__nn_dims(out->n, out->h, out->w, out->c);
}

/* CMSIS-NN's context over `scratch`, which must be given when CMSIS-NN asks
 * for `size` > 0 bytes. */
static inline ks_status ks__nn_context(cmsis_nn_context *ctx, int32_t size, void *scratch)
{
    if (size > 0 && scratch == NULL) {
        return KS_ERR_ARG;
    }
    ctx->buf = scratch;
    ctx->size = size;
    return KS_OK;
}

/* What a dense conv / depthwise plan's run checks: its only level is 0,
 * then the context over the buffer sized at Prepare. */
static inline ks_status ks__nn_plan_context(const ks__nn_plan *n, int32_t level, void *scratch,
                                            cmsis_nn_context *ctx)
{
    if (level != 0) {
        return KS_ERR_LEVEL;
    }
    return ks__nn_context(ctx, n->buf_size, scratch);
}

#endif /* KS_DENSE_CMSIS_NN_H */
