#include "ks_plan_internal.h"

/* nested_csr / nested_block / row: the row loop was chosen at Prepare; a
 * run patches the level into its arguments and calls it per batch. */
static ks_status ks__run_fc_rows(const ks_plan *p, int32_t level, const int8_t *input, int8_t *output,
                                 void *scratch)
{
    const ks__rows_fn_s8 fn = p->rows_fn;
    ks__sparse_args_s8 a;
    ks__qepi e;
    int32_t b;
    (void)scratch;
    if ((uint32_t)level >= (uint32_t)p->num_levels) {
        return KS_ERR_LEVEL;
    }
    a = p->rows_args;
    a.level = level;
    a.count = p->count[level];
    e = ks__plan_epi(p, level);
    for (b = 0; b < p->batches; ++b) {
        fn(&a, input, NULL, &e, output);
        input += p->w.cols;
        output += p->w.rows;
    }
    return KS_OK;
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
    if (batches < 0) {
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
    p->rows_fn = ks__sparse_rows_select_s8(w, 0, 0, 1, &p->rows_args);
    p->run = ks__run_fc_rows;
    return KS_OK;
}
