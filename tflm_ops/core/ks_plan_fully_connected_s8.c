// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_plan_fc_rows.h"
#include "ks_fast_internal.h"
#include "ks_plan_internal.h"

KS__FCA_DEFINE_PTR(fca_csr_p16_u8, uint16_t, uint8_t, KS__FCA_MAC)
KS__FCA_DEFINE_PTR(fca_csr_p16_u16, uint16_t, uint16_t, KS__FCA_MAC)
KS__FCA_DEFINE_PTR(fca_csr_p32_u8, int32_t, uint8_t, KS__FCA_MAC)
KS__FCA_DEFINE_PTR(fca_csr_p32_u16, int32_t, uint16_t, KS__FCA_MAC)
KS__FCA_DEFINE_PTR(fca_blk_p16_u8, uint16_t, uint8_t, KS__FCA_BLK)
KS__FCA_DEFINE_PTR(fca_blk_p16_u16, uint16_t, uint16_t, KS__FCA_BLK)
KS__FCA_DEFINE_PTR(fca_blk_p32_u8, int32_t, uint8_t, KS__FCA_BLK)
KS__FCA_DEFINE_PTR(fca_blk_p32_u16, int32_t, uint16_t, KS__FCA_BLK)
KS__FCA_DEFINE_ROW(fca_row_u8, uint8_t)
KS__FCA_DEFINE_ROW(fca_row_u16, uint16_t)

static ks__fca_fn ks__fca_select(const ks_matrix *w)
{
    const int32_t is_block = w->format == KS_FORMAT_NESTED_BLOCK;
    const int32_t u8 = ks_index_is_u8(is_block ? (w->cols + 1) / 2 : w->cols);
    const int32_t p16 = ks_ptr_is_u16(w->num_indices);
    if (w->format == KS_FORMAT_ROW) {
        return u8 ? fca_row_u8 : fca_row_u16;
    }
    if (is_block) {
        return p16 ? (u8 ? fca_blk_p16_u8 : fca_blk_p16_u16) : (u8 ? fca_blk_p32_u8 : fca_blk_p32_u16);
    }
    return p16 ? (u8 ? fca_csr_p16_u8 : fca_csr_p16_u16) : (u8 ? fca_csr_p32_u8 : fca_csr_p32_u16);
}

/* Out of line: the run keeps few registers live across it (per-call cost). */
static KS__NOINLINE void ks__widen_call(const int8_t *x, int32_t cols, int32_t off, int16_t *x16)
{
    ks__widen_s8(x, cols, off, x16);
}

/* One batch of nested_csr / nested_block / row (rows >= 1): accumulate and
 * requantize chunks of KS__FC_CHUNK rows (accumulators on the stack).  The
 * accumulation loop and whether the level's requantization is all fast were
 * chosen at Prepare. */
static KS__NOINLINE void ks__fc_rows_batch(const ks_plan *p, int32_t level, const int16_t *x16, int8_t *y)
{
    int32_t acc[KS__FC_CHUNK];
    const ks__fca_fn fn = (ks__fca_fn)p->fc_fn;
    const ks__fcq_fn rq = ((p->fc_fast >> level) & 1u) != 0 ? ks__fcq_fast : ks__fcq_any;
    const int32_t rows = p->w.rows;
    const int32_t base = p->qbase[level];
    int32_t o = 0;
    do {
        const int32_t n = rows - o < KS__FC_CHUNK ? rows - o : KS__FC_CHUNK;
        fn(p, level, x16, o, n, acc);
        rq(&p->q, base + o, acc, n, y + o);
        o += n;
    } while (o < rows);
}

/* A run widens each batch's input into scratch and runs the batch. */
static ks_status ks__run_fc_rows(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                 void *scratch)
{
    int32_t b;
    if ((uint32_t)level >= (uint32_t)p->num_levels) {
        return KS_ERR_LEVEL;
    }
    if (scratch == NULL) {
        return KS_ERR_ARG;
    }
    for (b = p->batches; b > 0; --b) {
        ks__widen_call(input, p->w.cols, p->q.input_offset, (int16_t *)scratch);
        ks__fc_rows_batch(p, level, (const int16_t *)scratch, output);
        input += p->w.cols;
        output += p->w.rows;
    }
    return KS_OK;
}

/* A matrix with no rows: only the level is checked. */
static ks_status ks__run_fc_none(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                 void *scratch)
{
    (void)input;
    (void)output;
    (void)scratch;
    return (uint32_t)level >= (uint32_t)p->num_levels ? KS_ERR_LEVEL : KS_OK;
}

static ks_status ks__run_fc_structured(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                       void *scratch)
{
    (void)scratch;
    if ((uint32_t)level >= (uint32_t)p->num_levels) {
        return KS_ERR_LEVEL;
    }
    if (p->batches > 0) {
        ks__structured_pointwise_s8(&p->w, level, input, p->batches, &p->q, p->qbase[level], output);
    }
    return KS_OK;
}

ks_status ks_plan_fully_connected_s8(ks_plan *p, const ks_matrix *w, const ks_quant_params *q, int32_t batches)
{
    ks_status s = ks__plan_sparse(p, w, q);
    if (s != KS_OK) {
        return s;
    }
    if (batches < 0 || w->tap_major != 0) {
        return KS_ERR_ARG;
    }
    p->batches = batches;
    if (w->format == KS_FORMAT_STRUCTURED) {
        /* As ks_fully_connected_s8: FC channels are its columns. */
        if (w->in_channels != w->cols || w->depth_multiplier != 0) {
            return KS_ERR_ARG;
        }
        p->run = ks__run_fc_structured;
        return KS_OK;
    }
    (void)ks__sparse_rows_select_s8(w, 0, 0, 1, &p->rows_args); /* row stride */
    p->fc_fn = (ks__plan_fn)ks__fca_select(w);
    if (w->rows > 0) {
        int32_t k;
        for (k = 0; k < w->num_levels; ++k) {
            const int32_t base = p->qbase[k];
            if (ks__fcq_is_fast(q->multiplier + base, q->shift + base, w->rows)) {
                p->fc_fast |= 1u << k;
            }
        }
    }
    /* int16 input (+1 zero for an odd-width block matrix), word aligned. */
    p->scratch_size = (int32_t)(((uint32_t)(w->cols + 1) * 2u + 3u) & ~3u);
    p->run = w->rows > 0 ? ks__run_fc_rows : ks__run_fc_none;
    return KS_OK;
}
