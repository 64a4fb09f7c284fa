// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * keras-subnets portable kernel core (format version 4, see docs/format.md).
 *
 * One weight matrix W[rows][cols] holds L nested levels; the level is chosen
 * per call.  Every kernel is plain C99, uses no heap, and takes caller-owned
 * scratch (size from the matching *_get_buffer_size()).
 *
 * Trust model: a matrix is checked once by its ks_validate_*() function (at
 * TFLM prepare time, O(entries)); kernels then trust the validated arrays and
 * only re-check what can change per call: the level (an int32 tensor read at
 * every invoke) and the O(1) per-level header fields.  A bad level returns
 * KS_ERR_LEVEL before any array is touched.
 */
#ifndef KS_OPS_H
#define KS_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KS_FORMAT_VERSION 5
#define KS_MAX_LEVELS 16

typedef enum ks_status {
    KS_OK = 0,
    KS_ERR_ARG = 1,      /* NULL pointer, bad scalar parameter, shape mismatch */
    KS_ERR_FORMAT = 2,   /* matrix arrays violate docs/format.md */
    KS_ERR_LEVEL = 3,    /* level outside [0, num_levels) */
    KS_ERR_UNSUPPORTED = 4 /* valid request this build does not implement */
} ks_status;

typedef enum ks_format {
    KS_FORMAT_NESTED_CSR = 1,
    KS_FORMAT_NESTED_BLOCK = 2,
    KS_FORMAT_ROW = 3,
    KS_FORMAT_STRUCTURED = 4
} ks_format;

typedef enum ks_dtype {
    KS_DTYPE_INT8 = 1,
    KS_DTYPE_FLOAT32 = 2
} ks_dtype;

/*
 * KS_FORMATS: the weight formats this build runs, bit (format - 1) for each
 * (default 0xF: all four).  A firmware built for known files defines only
 * their formats (`keras-subnets export-c` prints the flags a file needs), so
 * the other formats' kernels are never referenced and the linker leaves them
 * out; ks_validate_matrix() refuses a format left out with
 * KS_ERR_UNSUPPORTED.  Flash only: the formats built run the same code.
 */
#ifndef KS_FORMATS
#define KS_FORMATS 0xF
#endif
#define KS_FORMAT_BUILT(f) ((f) >= 1 && (f) <= 4 && (((KS_FORMATS) >> ((f) - 1)) & 1) != 0)

/*
 * A nested weight matrix.  Which pointers are used depends on `format`;
 * unused ones may be NULL.  The index element type is not stored: it follows
 * from the index space (cols, or ceil(cols/2) blocks), see ks_index_is_u8().
 */
typedef struct ks_matrix {
    int32_t format;        /* ks_format */
    int32_t dtype;         /* ks_dtype of values */
    int32_t num_levels;    /* L, 1..KS_MAX_LEVELS */
    int32_t rows;          /* output channels */
    int32_t cols;          /* R: in (FC), kh*kw*cin (conv), kh*kw (depthwise) */
    /* float32 sparse formats: one value per stored entry (docs/format.md §3).
     * int8 sparse formats (format v4): the layer's dense int8 weights D,
     * rows*cols elements, W[o][c] at values[o*cols + c] (or, tap_major,
     * values[c*rows + o]); entries carry only their columns.  structured:
     * the dense matrix (§3.4). */
    const void *values;    /* int8_t[] or float[] */
    int32_t num_values;    /* element count of values */
    const void *indices;   /* uint8_t[] or uint16_t[] (sparse formats) */
    int32_t num_indices;   /* element count of indices */
    /* nested_csr / nested_block: rows*L + 1 level pointers, uint16_t[] when
     * num_indices <= 65535 (ks_ptr_is_u16()), else int32_t[] (format v2). */
    const void *ptr;
    int32_t num_ptr;       /* element count of ptr (must be rows*L + 1) */
    const int32_t *counts; /* row: [L] entries per row per level */
    const int32_t *out_width; /* structured: [L] */
    const int32_t *in_width;  /* structured: [L] */
    /* element count of counts (row) or of each of out_width / in_width
     * (structured); must be L.  Lengths are explicit so a validator never
     * reads past a tensor a flatbuffer made too short. */
    int32_t num_table;
    /* structured only: input channels the columns are grouped by
     * (FC: cols; conv: cols / (kh*kw); depthwise: rows / depth_multiplier) */
    int32_t in_channels;
    /* structured only: 0 for FC / conv, >= 1 for depthwise */
    int32_t depth_multiplier;
    /* Depthwise only: 1 when values are TFLite's depthwise filter
     * [kernel_h][kernel_w][rows] (tap-major, the layout the dense kernels
     * read), 0 for the canonical [rows][taps].  Valid for a structured
     * depthwise matrix (format v3) and an int8 sparse one (format v4, values
     * = D); FC and conv kernels refuse it (their canonical layout is
     * TFLite's). */
    int32_t tap_major;
} ks_matrix;

/*
 * Layout of the per-channel tables (ks_quant_params / ks_float_params
 * `per_level`, format v2):
 *   KS_TABLES_SHARED    [rows], the same for every level
 *   KS_TABLES_PER_LEVEL [L][rows]
 *   KS_TABLES_PREFIX    structured only: level k's out_width[k] rows start at
 *                       out_width[0] + ... + out_width[k-1] (the rows a level
 *                       leaves inactive are never read, so not stored)
 */
typedef enum ks_table_layout {
    KS_TABLES_SHARED = 0,
    KS_TABLES_PER_LEVEL = 1,
    KS_TABLES_PREFIX = 2
} ks_table_layout;

/*
 * int8 requantization, per level and output channel, laid out as
 * `per_level` (ks_table_layout) says.  bias may be NULL.  Format v2 stores
 * shifts as int8 (v1: int32).
 */
typedef struct ks_quant_params {
    int32_t input_offset;  /* -input_zero_point, in [-127, 128] */
    int32_t output_offset; /* output_zero_point, in [-128, 127] */
    int32_t act_min;       /* in [-128, 127], act_min <= act_max */
    int32_t act_max;
    int32_t per_level;         /* ks_table_layout */
    const int32_t *bias;
    const int32_t *multiplier; /* negative for a negative per-level BatchNorm scale (docs/format.md §5.2) */
    const int8_t *shift;       /* [-31, 30], negative = right shift */
} ks_quant_params;

/* float32 epilogue y = clamp(scale*acc + bias); scale NULL means 1, bias
 * NULL means 0.  Same table layout rule as ks_quant_params. */
typedef struct ks_float_params {
    float act_min;
    float act_max;
    int32_t per_level;         /* ks_table_layout */
    const float *scale;
    const float *bias;
} ks_float_params;

/* Geometry of Conv2D / DepthwiseConv2D, as TFLM ConvParams/DepthwiseParams;
 * pad_h/pad_w are the top/left padding the caller computed. */
typedef struct ks_conv_params {
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier; /* depthwise only */
} ks_conv_params;

/* NHWC tensor dimensions. */
typedef struct ks_dims {
    int32_t n, h, w, c;
} ks_dims;

/* ---- helpers ---------------------------------------------------------- */

/* 1 when an index space of `n` positions uses uint8 indices, else 0. */
int32_t ks_index_is_u8(int32_t n);

/* 1 when the level pointers of a matrix with `num_entries` stored entries
 * (indices) are uint16, else 0 (int32).  Format v2. */
int32_t ks_ptr_is_u16(int32_t num_entries);

/* Mirrors TFLM QuantizeMultiplier(): real = mult * 2^(shift-31). */
ks_status ks_quantize_multiplier(double real, int32_t *multiplier,
                                 int32_t *shift);

/* Mirrors TFLM MultiplyByQuantizedMultiplier() (double rounding unless
 * built with -DKS_SINGLE_ROUNDING=1, like TFLITE_SINGLE_ROUNDING). */
int32_t ks_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                            int32_t shift);

/* ---- validation (one per format; ks_validate_matrix dispatches) ------- */

ks_status ks_validate_nested_csr(const ks_matrix *w);
ks_status ks_validate_nested_block(const ks_matrix *w);
ks_status ks_validate_row(const ks_matrix *w);
ks_status ks_validate_structured(const ks_matrix *w);
ks_status ks_validate_matrix(const ks_matrix *w);
/* Checks ranges of offsets, activation bounds, multipliers and shifts over
 * rows (shared) or num_levels*rows (per level) entries; KS_ERR_ARG for
 * KS_TABLES_PREFIX, whose length needs the matrix: use the next function. */
ks_status ks_validate_quant_params(const ks_quant_params *q,
                                   int32_t num_levels, int32_t rows);
/* Same checks over ks_table_length(w, q->per_level) entries; `w` must have
 * passed ks_validate_matrix(). */
ks_status ks_validate_quant_params_matrix(const ks_quant_params *q,
                                          const ks_matrix *w);
/* Element count of each per-channel table of a validated matrix in
 * `layout` (ks_table_layout); -1 for an unknown layout or a prefix layout
 * on a matrix that is not structured. */
int32_t ks_table_length(const ks_matrix *w, int32_t layout);

/* ---- kernels ---------------------------------------------------------- */

/* input [batches][cols], output [batches][rows]. No scratch. */
ks_status ks_fully_connected_s8(const ks_matrix *w, int32_t level,
                                const ks_quant_params *q, int32_t batches,
                                const int8_t *input, int8_t *output);
ks_status ks_fully_connected_f32(const ks_matrix *w, int32_t level,
                                 const ks_float_params *p, int32_t batches,
                                 const float *input, float *output);

/*
 * Convolutions: `scratch` is a caller buffer of *_get_buffer_size() bytes,
 * 4-byte aligned (may be NULL when the size is 0).  Any output shape is
 * memory-safe; padding positions contribute exactly zero, like TFLM.
 *
 * Conv2D, NHWC; w->cols == kernel_h*kernel_w*in->c, w->rows == out->c. */
int32_t ks_conv_s8_get_buffer_size(const ks_conv_params *cp,
                                   const ks_matrix *w, const ks_dims *in);
ks_status ks_conv_s8(const ks_conv_params *cp, const ks_matrix *w,
                     int32_t level, const ks_quant_params *q,
                     const ks_dims *in, const int8_t *input,
                     const ks_dims *out, int8_t *output, void *scratch);
int32_t ks_conv_f32_get_buffer_size(const ks_conv_params *cp,
                                    const ks_matrix *w, const ks_dims *in);
ks_status ks_conv_f32(const ks_conv_params *cp, const ks_matrix *w,
                      int32_t level, const ks_float_params *p,
                      const ks_dims *in, const float *input,
                      const ks_dims *out, float *output, void *scratch);

/* DepthwiseConv2D, NHWC; w->rows == in->c * depth_multiplier == out->c,
 * w->cols == kernel_h*kernel_w. */
int32_t ks_depthwise_conv_s8_get_buffer_size(const ks_conv_params *cp,
                                             const ks_matrix *w,
                                             const ks_dims *in);
ks_status ks_depthwise_conv_s8(const ks_conv_params *cp, const ks_matrix *w,
                               int32_t level, const ks_quant_params *q,
                               const ks_dims *in, const int8_t *input,
                               const ks_dims *out, int8_t *output,
                               void *scratch);
int32_t ks_depthwise_conv_f32_get_buffer_size(const ks_conv_params *cp,
                                              const ks_matrix *w,
                                              const ks_dims *in);
ks_status ks_depthwise_conv_f32(const ks_conv_params *cp, const ks_matrix *w,
                                int32_t level, const ks_float_params *p,
                                const ks_dims *in, const float *input,
                                const ks_dims *out, float *output,
                                void *scratch);

#ifdef __cplusplus
}
#endif

#endif /* KS_OPS_H */
