// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#include "ks_plan_fc_rows.h"
#include "ks_fast_internal.h"
#include "ks_plan_internal.h"

KS__FCR_DEFINE_PTR(fca_csr_p16_u8, uint16_t, uint8_t, KS__FCA_MAC)
KS__FCR_DEFINE_PTR(fca_csr_p16_u16, uint16_t, uint16_t, KS__FCA_MAC)
KS__FCR_DEFINE_PTR(fca_csr_p32_u8, int32_t, uint8_t, KS__FCA_MAC)
KS__FCR_DEFINE_PTR(fca_csr_p32_u16, int32_t, uint16_t, KS__FCA_MAC)
KS__FCR_DEFINE_PTR(fca_blk_p16_u8, uint16_t, uint8_t, KS__FCA_BLK)
KS__FCR_DEFINE_PTR(fca_blk_p16_u16, uint16_t, uint16_t, KS__FCA_BLK)
KS__FCR_DEFINE_PTR(fca_blk_p32_u8, int32_t, uint8_t, KS__FCA_BLK)
KS__FCR_DEFINE_PTR(fca_blk_p32_u16, int32_t, uint16_t, KS__FCA_BLK)
KS__FCR_DEFINE_ROW(fca_row_u8, uint8_t)
KS__FCR_DEFINE_ROW(fca_row_u16, uint16_t)

/* NULL for a format this build leaves out (KS_FORMATS): its loops are then
 * never referenced (ks_validate_matrix refused the matrix already). */
static ks__fcr_fn ks__fca_select(const ks_matrix *w)
{
    const int32_t is_block = KS__IS_BLOCK(w->format);
    const int32_t u8 = ks_index_is_u8(is_block ? (w->cols + 1) / 2 : w->cols);
    const int32_t p16 = ks_ptr_is_u16(w->num_indices);
    if (KS__IS_ROW(w->format)) {
        return u8 ? fca_row_u8 : fca_row_u16;
    }
    if (is_block) {
        return p16 ? (u8 ? fca_blk_p16_u8 : fca_blk_p16_u16) : (u8 ? fca_blk_p32_u8 : fca_blk_p32_u16);
    }
    if (!KS_FORMAT_BUILT(KS_FORMAT_NESTED_CSR) || w->format != KS_FORMAT_NESTED_CSR) {
        return NULL;
    }
    return p16 ? (u8 ? fca_csr_p16_u8 : fca_csr_p16_u16) : (u8 ? fca_csr_p32_u8 : fca_csr_p32_u16);
}

/* Out of line: the run keeps few registers live across it (per-call cost). */
static KS__NOINLINE void ks__widen_call(const int8_t *x, int32_t cols, int32_t off, int16_t *x16)
{
    ks__widen_s8(x, cols, off, x16);
}

/* nested_csr / nested_block / row (rows >= 1): a run widens each batch's
 * input into scratch and runs the level's row loop, chosen at Prepare. */
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
        ((ks__fcr_fn)p->fc_fn)(p, level, (const int16_t *)scratch, output);
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

/* structured: the level's first out_width rows over its first in_width
 * inputs, four rows per input word (ks__structured_rows_acc_s8), in chunks
 * of KS__FC_CHUNK accumulators requantized like the sparse rows; the other
 * rows output the output offset. */
static ks_status ks__run_fc_structured(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                       void *scratch)
{
    int32_t acc[KS__FC_CHUNK];
    int32_t b;
    (void)scratch;
    if ((uint32_t)level >= (uint32_t)p->num_levels) {
        return KS_ERR_LEVEL;
    }
    for (b = p->batches; b > 0; --b) {
        const int32_t ow = p->w.out_width[level];
        const int32_t cols = p->w.cols;
        const int8_t *v = (const int8_t *)p->w.values;
        int32_t o;
        for (o = 0; o < ow; o += KS__FC_CHUNK) {
            const int32_t n = ow - o < KS__FC_CHUNK ? ow - o : KS__FC_CHUNK;
            ks__structured_rows_acc_s8(v + o * cols, cols, input, p->w.in_width[level], p->q.input_offset, n, acc);
            (((p->fc_fast >> level) & 1u) != 0 ? ks__fcq_fast : ks__fcq_any)(&p->q, p->qbase[level] + o, acc, n,
                                                                             output + o);
        }
        if (ow < p->w.rows) {
            ks__fill_s8(output + ow, p->w.rows - ow, p->q.output_offset);
        }
        input += cols;
        output += p->w.rows;
    }
    return KS_OK;
}

ks_status ks_plan_fully_connected_s8(ks_plan *p, const ks_matrix *w, const ks_quant_params *q, int32_t batches)
{
    int32_t k;
    ks_status s = ks__plan_sparse(p, w, q);
    if (s != KS_OK) {
        return s;
    }
    if (batches < 0 || w->tap_major != 0) {
        return KS_ERR_ARG;
    }
    p->batches = batches;
    if (KS__IS_STRUCTURED(w->format)) {
        /* As ks_fully_connected_s8: FC channels are its columns. */
        if (w->in_channels != w->cols || w->depth_multiplier != 0) {
            return KS_ERR_ARG;
        }
        for (k = 0; k < w->num_levels; ++k) {
            const int32_t base = p->qbase[k];
            if (ks__fcq_is_fast(q->multiplier + base, q->shift + base, w->out_width[k])) {
                p->fc_fast |= 1u << k;
            }
        }
        p->run = ks__run_fc_structured;
        return KS_OK;
    }
    p->fc_fn = (ks__plan_fn)ks__fca_select(w);
    if (p->fc_fn == NULL) {
        return KS_ERR_UNSUPPORTED;
    }
    /* The row loops read only the row format's stride of rows_args (not
     * ks__sparse_rows_select_s8, which would link every unplanned row loop). */
    p->rows_args.stride = KS__IS_ROW(w->format) ? w->counts[w->num_levels - 1] : 0;
    if (w->rows > 0) {
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
