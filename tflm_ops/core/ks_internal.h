// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

/*
 * Internal helpers shared by the kernels.  Not part of the public API; the
 * names carry a double underscore so they never clash with user code.
 */
#ifndef KS_INTERNAL_H
#define KS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ks_ops.h"
#include "ks_plan.h" /* ks__qepi, ks__sparse_args_s8 */

#ifndef KS_SINGLE_ROUNDING
#define KS_SINGLE_ROUNDING 0
#endif

/* Format tests that are constants where the build (KS_FORMATS, ks_ops.h)
 * leaves a side out, so the compiler drops that side's kernels from the
 * dispatch and the linker from the image.  Only meaningful for a matrix
 * that passed ks_validate_matrix() or ks__check_level(), which refuse a
 * format left out. */
#define KS__IS_BLOCK(fmt) (KS_FORMAT_BUILT(KS_FORMAT_NESTED_BLOCK) && (fmt) == KS_FORMAT_NESTED_BLOCK)
#define KS__IS_ROW(fmt) (KS_FORMAT_BUILT(KS_FORMAT_ROW) && (fmt) == KS_FORMAT_ROW)
#define KS__IS_STRUCTURED(fmt) \
    (KS_FORMAT_BUILT(KS_FORMAT_STRUCTURED) && (((KS_FORMATS) & 0x7) == 0 || (fmt) == KS_FORMAT_STRUCTURED))
#define KS__CSR_BUILT KS_FORMAT_BUILT(KS_FORMAT_NESTED_CSR)

/*
 * TFLM MultiplyByQuantizedMultiplier (double rounding unless
 * KS_SINGLE_ROUNDING).  gemmlowp's SaturatingRoundingDoublingHighMul,
 * trunc((a*b + (a*b >= 0 ? 2^30 : 1 - 2^30)) / 2^31), equals
 * floor((a*b + 2^30) / 2^31) for every a*b, i.e. one add and an arithmetic
 * shift (ceil(n/d) = floor((n+d-1)/d)); that is what CMSIS-NN does too.
 * Its only saturating case, a = b = INT32_MIN, needs multiplier INT32_MIN,
 * which ks_validate_quant_params() rejects, so kernels skip that test.
 * Assumes >> of a negative value is arithmetic (gcc, clang, armclang).
 * The left shift goes through uint32 so an out-of-contract accumulator
 * wraps as the hardware would instead of being undefined behaviour.
 */
/* int32 addition that wraps like the hardware instead of being undefined
 * behaviour when a (validated but adversarial) bias or weight set overflows. */
static inline int32_t ks__wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t ks__mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
#if KS_SINGLE_ROUNDING
    const int32_t total_shift = 31 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    int64_t r = (int64_t)x * (int64_t)multiplier + round;
    return (int32_t)(r >> total_shift);
#else
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t a = (int32_t)((uint32_t)x << left);
    const int32_t hi = (int32_t)(((int64_t)a * (int64_t)multiplier + ((int64_t)1 << 30)) >> 31);
    /* gemmlowp RoundingDivideByPOT: round half away from zero. */
    const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
    const int32_t rem = hi & mask;
    const int32_t threshold = (mask >> 1) + (hi < 0 ? 1 : 0);
    return (hi >> right) + (rem > threshold ? 1 : 0);
#endif
}

/* A negative multiplier carries a negative per-level BatchNorm scale
 * (docs/format.md §5.2): the integer weights are shared by every level and
 * cannot change sign, so the accumulator does. INT32_MIN is rejected by
 * ks_validate_quant_params(); the negation wraps like the hardware. */
static inline int32_t ks__mbqm_signed(int32_t x, int32_t multiplier, int32_t shift)
{
    if (multiplier < 0) {
        x = (int32_t)(0u - (uint32_t)x);
        multiplier = -multiplier;
    }
    return ks__mbqm(x, multiplier, shift);
}

/* Epilogue constants copied out of ks_quant_params once per call: outputs
 * are int8_t, which may alias anything, so reading through the struct would
 * reload every field after every store. */

static inline ks__qepi ks__qepi_make(const ks_quant_params *q, int32_t base)
{
    ks__qepi e;
    e.bias = q->bias != NULL ? q->bias + base : NULL;
    e.mult = q->multiplier + base;
    e.shift = q->shift + base;
    e.input_offset = q->input_offset;
    e.output_offset = q->output_offset;
    e.act_min = q->act_min;
    e.act_max = q->act_max;
    return e;
}

static inline int8_t ks__requant_e(int32_t acc, int32_t o, const ks__qepi *e)
{
    int32_t y;
    if (e->bias != NULL) {
        acc = ks__wrap_add(acc, e->bias[o]);
    }
    y = ks__mbqm_signed(acc, e->mult[o], e->shift[o]) + e->output_offset;
    y = y < e->act_min ? e->act_min : y;
    y = y > e->act_max ? e->act_max : y;
    return (int8_t)y;
}

typedef struct ks__fepi {
    const float *scale;
    const float *bias;
    float act_min;
    float act_max;
} ks__fepi;

static inline ks__fepi ks__fepi_make(const ks_float_params *p, int32_t base)
{
    ks__fepi e;
    e.scale = p->scale != NULL ? p->scale + base : NULL;
    e.bias = p->bias != NULL ? p->bias + base : NULL;
    e.act_min = p->act_min;
    e.act_max = p->act_max;
    return e;
}

static inline float ks__fepi_apply(float acc, int32_t o, const ks__fepi *e)
{
    float y = e->scale != NULL ? e->scale[o] * acc : acc;
    if (e->bias != NULL) {
        y += e->bias[o];
    }
    y = y < e->act_min ? e->act_min : y;
    y = y > e->act_max ? e->act_max : y;
    return y;
}

/* Requantize with the channel's constants already in locals. */
static inline int8_t ks__requant_c(int32_t acc, int32_t mult, int32_t shift, int32_t out_off,
                                   int32_t act_min, int32_t act_max)
{
    int32_t y = ks__mbqm_signed(acc, mult, shift) + out_off;
    y = y < act_min ? act_min : y;
    y = y > act_max ? act_max : y;
    return (int8_t)y;
}

static inline float ks__clamp_f32(float y, float act_min, float act_max)
{
    y = y < act_min ? act_min : y;
    return y > act_max ? act_max : y;
}

static inline int8_t ks__requant(int32_t acc, int32_t idx, const ks_quant_params *q)
{
    const ks__qepi e = ks__qepi_make(q, 0);
    return ks__requant_e(acc, idx, &e);
}

static inline float ks__epilogue_f32(float acc, int32_t idx, const ks_float_params *p)
{
    float y = acc;
    if (p->scale != NULL) {
        y = p->scale[idx] * acc;
    }
    if (p->bias != NULL) {
        y += p->bias[idx];
    }
    if (y < p->act_min) {
        y = p->act_min;
    }
    if (y > p->act_max) {
        y = p->act_max;
    }
    return y;
}

/* O(1) checks every kernel repeats per call: the header fields of the active
 * level.  Full array checks belong to ks_validate_*(). */
ks_status ks__check_level(const ks_matrix *w, int32_t level, int32_t dtype);

/*
 * One input vector against every row of a sparse-format matrix (nested_csr,
 * nested_block, row).  x[col] is read as x[off[col]] when off != NULL (conv
 * window gather), else x[col].  Outputs y[0..rows) with stride 1.
 * pairs_contiguous: columns 2b and 2b+1 sit next to each other in x (lets
 * the DSP path read a block's input pair with one load).
 */
void ks__sparse_rows_s8(const ks_matrix *w, int32_t level, const int8_t *x,
                        const int32_t *off, int32_t pairs_contiguous, const ks_quant_params *q,
                        int32_t qbase, int8_t *y);
void ks__sparse_rows_f32(const ks_matrix *w, int32_t level, const float *x,
                         const int32_t *off, int32_t pairs_contiguous, const ks_float_params *p,
                         int32_t pbase, float *y);

/* A sparse row loop chosen once (ks__sparse_rows_select_s8) and its
 * arguments (ks__sparse_args_s8, in ks_plan.h): ks__sparse_rows_s8 is
 * select + call; a plan keeps both and patches only the level fields at run
 * time. */
ks__rows_fn_s8 ks__sparse_rows_select_s8(const ks_matrix *w, int32_t level, int32_t table, int32_t pairs_contiguous,
                                         ks__sparse_args_s8 *a);

/*
 * Structured (prefix block) rows.  Columns are (tap, channel) with
 * col = tap*in_channels + ci; tap t's channel 0 sits at x[tap_off[t]], and
 * tap_off[t] < 0 marks a padded tap that contributes nothing.
 */
void ks__structured_rows_s8(const ks_matrix *w, int32_t level, const int8_t *x,
                            const int32_t *tap_off, int32_t num_taps,
                            const ks_quant_params *q, int32_t qbase, int8_t *y);
void ks__structured_rows_f32(const ks_matrix *w, int32_t level, const float *x,
                             const int32_t *tap_off, int32_t num_taps,
                             const ks_float_params *p, int32_t pbase, float *y);

/* Sparse int8 1x1 conv over `npix` contiguous pixels of w->cols channels
 * (output pixel i reads x + i*cols).  Returns 0 without touching anything
 * when it does not handle the matrix (nested_block with odd cols) or the
 * level is dense enough for ks__sparse_conv_s8;
 * structured matrices go to ks__structured_pointwise_s8(). */
int32_t ks__sparse_pointwise_s8(const ks_matrix *w, int32_t level, const int8_t *x, int32_t npix,
                                const ks_quant_params *q, int32_t qbase, int8_t *y);

/* Structured FC rows (plans): accumulators without bias of n rows of
 * width cols from r, over the first iw inputs of x (offset added). */
void ks__structured_rows_acc_s8(const int8_t *r, int32_t cols, const int8_t *x, int32_t iw, int32_t in_off,
                                int32_t n, int32_t *acc);

/* Structured int8 rows over `nvec` contiguous input vectors of w->cols
 * elements (FC batches, 1x1 stride-1 unpadded conv pixels); output vector i
 * at y + i*rows.  Needs w->in_channels == w->cols. */
void ks__structured_pointwise_s8(const ks_matrix *w, int32_t level, const int8_t *x, int32_t nvec,
                                 const ks_quant_params *q, int32_t qbase, int8_t *y);

/* The int8 conv / depthwise kernels after their argument checks (ks_plan.h
 * runs them on arguments validated at plan time); base = first table entry
 * of the level. */
ks_status ks__conv_s8_body(const ks_conv_params *cp, const ks_matrix *w, int32_t level, const ks_quant_params *prm,
                           const ks_dims *in, const int8_t *input, const ks_dims *out, int8_t *output,
                           void *scratch, int32_t base);
ks_status ks__depthwise_conv_s8_body(const ks_conv_params *cp, const ks_matrix *w, int32_t level,
                                     const ks_quant_params *prm, const ks_dims *in, const int8_t *input,
                                     const ks_dims *out, int8_t *output, void *scratch, int32_t base);

/* Structured int8 conv through a q15 im2col; scratch as
 * ks_conv_s8_get_buffer_size says.  Returns 0 without touching anything when
 * it does not handle the level (no scratch, in_width 0, or in_width rounded
 * up to four beyond C). */
int32_t ks__structured_conv_s8(const ks_conv_params *cp, const ks_matrix *w, int32_t level,
                               const ks_quant_params *q, int32_t qbase, const ks_dims *in,
                               const int8_t *input, const ks_dims *out, int8_t *output, void *scratch);

/* Structured int8 depthwise conv, depth multiplier 1, four channels per
 * word (tap-major weights in place, canonical ones copied); scratch as
 * ks_depthwise_conv_s8_get_buffer_size says.  Returns 0 without touching
 * anything when it does not handle the layer. */
int32_t ks__structured_depthwise_conv_s8(const ks_conv_params *cp, const ks_matrix *w, int32_t level,
                                         const ks_quant_params *q, int32_t qbase, const ks_dims *in,
                                         const int8_t *input, const ks_dims *out, int8_t *output, void *scratch);

/* Sparse int8 conv (nested_csr, nested_block, row) four pixels per entry
 * through a q15 im2col; scratch as ks_conv_s8_get_buffer_size says.
 * Returns 0 without touching anything when it does not handle the layer. */
int32_t ks__sparse_conv_s8(const ks_conv_params *cp, const ks_matrix *w, int32_t level, const ks_quant_params *q,
                           int32_t qbase, const ks_dims *in, const int8_t *input, const ks_dims *out, int8_t *output,
                           void *scratch);

/* One int8 depthwise output channel with 1-3 entries at the level (the
 * body's gathered entries, prescaled weights, initial accumulators and
 * requantizer of mode 0/1/2), every pixel in one pass; 0 for other counts. */
struct ks__rq;
int32_t ks__dw_few_s8(const ks_conv_params *cp, const ks_dims *in, const ks_dims *out, const int8_t *input_c,
                      int8_t *output_o, int32_t rows, const int32_t *rel, const int32_t *val, const int32_t *tky,
                      const int32_t *tkx, int32_t n, int32_t ox_lo, int32_t ox_hi, const struct ks__rq *rq,
                      int32_t mode, int32_t border_init, int32_t interior_init, int32_t in_off, int32_t out_off,
                      int32_t act_min, int32_t act_max);

/* Shared conv argument checks; returns KS_OK or KS_ERR_ARG. */
ks_status ks__check_conv_args(const ks_conv_params *cp, const ks_dims *in,
                              const ks_dims *out);

/* First table entry of `level` in `layout` (ks_table_layout), or -1 when
 * the layout does not apply to the matrix.  The widths were validated by
 * ks_validate_structured(), so the prefix sum stays within the table. */
static inline int32_t ks__table_base(const ks_matrix *w, int32_t layout, int32_t level)
{
    int32_t base = 0;
    int32_t k;
    switch (layout) {
    case KS_TABLES_SHARED:
        return 0;
    case KS_TABLES_PER_LEVEL:
        return level * w->rows;
    case KS_TABLES_PREFIX:
        if (w->format != KS_FORMAT_STRUCTURED || w->out_width == NULL) {
            return -1;
        }
        for (k = 0; k < level; ++k) {
            base += w->out_width[k];
        }
        return base;
    default:
        return -1;
    }
}

/* Level pointer i of a nested_csr / nested_block matrix (uint16 or int32,
 * ks_ptr_is_u16(num_indices)). */
static inline int32_t ks__ptr_at(const ks_matrix *w, int32_t i)
{
    return ks_ptr_is_u16(w->num_indices) ? (int32_t)((const uint16_t *)w->ptr)[i]
                                          : ((const int32_t *)w->ptr)[i];
}

/* Level-group bounds of sparse row `o` for the active level.  Only valid for
 * nested_csr / nested_block / row. */
static inline void ks__row_range(const ks_matrix *w, int32_t level, int32_t o,
                                 int32_t *begin, int32_t *end)
{
    if (KS__IS_ROW(w->format)) {
        const int32_t stride = w->counts[w->num_levels - 1];
        *begin = o * stride;
        *end = *begin + w->counts[level];
    } else {
        *begin = ks__ptr_at(w, o * w->num_levels);
        *end = ks__ptr_at(w, o * w->num_levels + level + 1);
    }
}

#endif /* KS_INTERNAL_H */
