// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * libFuzzer target: the validators, then one kernel call on what they
 * accepted.  Every array is a separate heap block of exactly its declared
 * length (AddressSanitizer catches any read past it), filled from the input:
 * malformed pointer tables, indices, counts, widths, levels and quantization
 * parameters.  A validated matrix must never make a kernel read or write out
 * of bounds, whatever the level.
 *
 * Build and run: see README.md in this directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_ops.h"

typedef struct {
    const uint8_t *d;
    size_t n;
} src_t;

static uint8_t take8(src_t *s)
{
    uint8_t v = 0;
    if (s->n > 0) {
        v = s->d[0];
        ++s->d;
        --s->n;
    }
    return v;
}

static int32_t take32(src_t *s)
{
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; ++i) {
        v |= (uint32_t)take8(s) << (8 * i);
    }
    return (int32_t)v;
}

/* Small count, mostly plausible, sometimes negative or off by a few. */
static int32_t take_small(src_t *s, int32_t max)
{
    const uint8_t b = take8(s);
    if (b == 0xFF) {
        return -1 - (int32_t)take8(s);
    }
    return (int32_t)(b % (uint32_t)(max + 1));
}

/* A heap block of `count` elements of `size` bytes filled from the input,
 * or NULL for count <= 0 (sometimes a 1-byte block). */
static void *take_array(src_t *s, int32_t count, size_t size)
{
    size_t bytes;
    uint8_t *p;
    size_t i;
    if (count <= 0) {
        return (take8(s) & 1) ? malloc(1) : NULL;
    }
    bytes = (size_t)count * size;
    p = (uint8_t *)malloc(bytes);
    for (i = 0; i < bytes; ++i) {
        p[i] = take8(s);
    }
    return p;
}

/* Index and pointer tables are mostly made in range so that the validators'
 * later checks get exercised too; the fuzzer perturbs them. */
static int32_t *take_table(src_t *s, int32_t count, int32_t limit);

/* Level pointers (format v2): `count` elements of the width the core derives
 * from the entry count (uint16 up to 65535 entries, else int32), so ASan
 * catches any read past `count` elements of that width. */
static void *take_ptr(src_t *s, int32_t count, int32_t limit, int32_t num_entries)
{
    int32_t *t = take_table(s, count, limit);
    uint16_t *u;
    int32_t i;
    if (t == NULL || count <= 0 || !ks_ptr_is_u16(num_entries)) {
        return t;
    }
    u = (uint16_t *)malloc((size_t)count * sizeof(uint16_t));
    for (i = 0; i < count; ++i) {
        u[i] = (uint16_t)t[i];
    }
    free(t);
    return u;
}

static int32_t *take_table(src_t *s, int32_t count, int32_t limit)
{
    int32_t *t;
    int32_t i;
    if (count <= 0) {
        return (take8(s) & 1) ? (int32_t *)malloc(1) : NULL;
    }
    t = (int32_t *)malloc((size_t)count * sizeof(int32_t));
    for (i = 0; i < count; ++i) {
        const uint8_t mode = take8(s);
        if (mode < 200) {
            t[i] = limit > 0 ? (int32_t)(mode % (uint32_t)(limit + 1)) : 0;
        } else {
            t[i] = take32(s);
        }
    }
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    src_t s = {data, size};
    ks_matrix w;
    ks_quant_params q;
    ks_float_params fp;
    int32_t nq;
    int32_t level;
    int32_t i;
    void *values;
    void *indices;
    void *ptr;
    int32_t *counts;
    int32_t *ow;
    int32_t *iw;
    int32_t *bias;
    int32_t *mult;
    int8_t *shift;
    float *fscale;
    float *fbias;
    int8_t *x8;
    int8_t *y8;
    float *xf;
    float *yf;
    size_t elem;
    const int32_t batches = 2;

    memset(&w, 0, sizeof w);
    w.format = take8(&s) % 6;
    w.dtype = (take8(&s) & 1) ? KS_DTYPE_FLOAT32 : KS_DTYPE_INT8;
    w.num_levels = take_small(&s, KS_MAX_LEVELS + 1);
    w.rows = take_small(&s, 24);
    w.cols = take_small(&s, 300); /* > 256 reaches uint16 indices */
    w.in_channels = take_small(&s, 300);
    w.depth_multiplier = take_small(&s, 3);
    w.num_values = take_small(&s, 250) * (take8(&s) % 8 + 1);
    w.num_indices = take_small(&s, 250) * (take8(&s) % 4 + 1);
    if (take8(&s) == 0xA5) {
        /* Past 65535 entries: int32 level pointers (format v2). */
        w.num_indices += 65536;
        w.num_values = w.num_indices * (take8(&s) % 2 + 1);
    }
    /* Format v4: int8 sparse values are the dense weights, rows*cols of them. */
    if (w.dtype == KS_DTYPE_INT8 && (take8(&s) & 3) != 0) {
        w.num_values = w.rows * w.cols;
    }
    w.num_ptr = take_small(&s, 250);
    w.num_table = take_small(&s, KS_MAX_LEVELS + 1);
    /* Tap-major values: structured depthwise (v3) and int8 sparse matrices (v4). */
    w.tap_major = (take8(&s) % 8 == 0) ? take8(&s) % 3 : 0;
    elem = w.dtype == KS_DTYPE_INT8 ? 1 : sizeof(float);

    values = take_array(&s, w.num_values, elem);
    if (w.dtype == KS_DTYPE_FLOAT32 && values != NULL && w.num_values > 0) {
        /* Keep floats finite so UBSan's float-cast checks stay quiet. */
        float *f = (float *)values;
        for (i = 0; i < w.num_values; ++i) {
            f[i] = (float)((int8_t)(i * 37 + 11));
        }
    }
    indices = take_array(&s, w.num_indices, w.cols > 256 ? 2 : 1);
    ptr = take_ptr(&s, w.num_ptr, w.num_values, w.num_indices);
    counts = take_table(&s, w.num_table, w.cols);
    ow = take_table(&s, w.num_table, w.rows);
    iw = take_table(&s, w.num_table, w.in_channels);
    w.values = values;
    w.indices = indices;
    w.ptr = ptr;
    w.counts = counts;
    w.out_width = ow;
    w.in_width = iw;

    q.input_offset = (int32_t)take8(&s) - 127;
    q.output_offset = (int32_t)(int8_t)take8(&s);
    q.act_min = (int32_t)(int8_t)take8(&s);
    q.act_max = (int32_t)(int8_t)take8(&s);
    /* Table layout (format v2): shared, per level or structured prefix; the
     * tables are exactly as long as the layout says for these (unvalidated)
     * widths, so a kernel reading an inactive row's entry overruns them. */
    q.per_level = take8(&s) % 3;
    nq = ks_table_length(&w, q.per_level);
    if (nq < 1) {
        nq = 1;
    }
    bias = (int32_t *)take_array(&s, nq, sizeof(int32_t));
    mult = (int32_t *)take_array(&s, nq, sizeof(int32_t));
    shift = (int8_t *)take_array(&s, nq, sizeof(int8_t));
    for (i = 0; i < nq && (take8(&s) & 1); ++i) {
        shift[i] = (int8_t)(shift[i] % 32); /* often in range */
    }
    q.bias = (take8(&s) & 1) ? bias : NULL;
    q.multiplier = mult;
    q.shift = shift;
    fscale = (float *)malloc((size_t)nq * sizeof(float));
    fbias = (float *)malloc((size_t)nq * sizeof(float));
    for (i = 0; i < nq; ++i) {
        fscale[i] = 0.5f + (float)(i % 3);
        fbias[i] = (float)(i % 5) - 2.0f;
    }
    fp.act_min = -6.0f;
    fp.act_max = 6.0f;
    fp.per_level = q.per_level;
    fp.scale = fscale;
    fp.bias = fbias;
    level = (int32_t)(int8_t)take8(&s);

    x8 = (int8_t *)malloc((size_t)batches * (size_t)(w.cols > 0 ? w.cols : 1));
    y8 = (int8_t *)malloc((size_t)batches * (size_t)(w.rows > 0 ? w.rows : 1));
    xf = (float *)malloc((size_t)batches * (size_t)(w.cols > 0 ? w.cols : 1) * sizeof(float));
    yf = (float *)malloc((size_t)batches * (size_t)(w.rows > 0 ? w.rows : 1) * sizeof(float));
    for (i = 0; i < batches * (w.cols > 0 ? w.cols : 1); ++i) {
        x8[i] = (int8_t)(i * 7);
        xf[i] = (float)(i % 9) - 4.0f;
    }

    if (ks_validate_matrix(&w) == KS_OK && w.rows > 0) {
        if (w.dtype == KS_DTYPE_INT8) {
            if (ks_validate_quant_params_matrix(&q, &w) == KS_OK &&
                (q.per_level == KS_TABLES_PREFIX ||
                 ks_validate_quant_params(&q, w.num_levels, w.rows) == KS_OK)) {
                ks_status st = ks_fully_connected_s8(&w, level, &q, batches, x8, y8);
                if ((level < 0 || level >= w.num_levels) && st != KS_ERR_LEVEL && st != KS_ERR_ARG) {
                    abort();
                }
                /* The same matrix as a 1x1 conv over a 2x1 image (the
                 * channel-outer pointwise paths). */
                if (w.format != KS_FORMAT_STRUCTURED || w.in_channels == w.cols) {
                    const ks_conv_params cp = {1, 1, 1, 1, 1, 1, 0, 0, 0};
                    const ks_dims din = {1, 2, 1, w.cols};
                    const ks_dims dout = {1, 2, 1, w.rows};
                    (void)ks_conv_s8(&cp, &w, level, &q, &din, x8, &dout, y8, NULL);
                }
            }
        } else {
            (void)ks_fully_connected_f32(&w, level, &fp, batches, xf, yf);
        }
    }

    free(values);
    free(indices);
    free(ptr);
    free(counts);
    free(ow);
    free(iw);
    free(bias);
    free(mult);
    free(shift);
    free(fscale);
    free(fbias);
    free(x8);
    free(y8);
    free(xf);
    free(yf);
    return 0;
}
