#include "ks_internal.h"

#define KS__T int8_t
#define KS__ACC int32_t
#define KS__PARAMS ks_quant_params
#define KS__MAC(acc, wv, xv) ((acc) += (int32_t)(wv) * ((int32_t)(xv) + prm->input_offset))
#define KS__EPI(acc, idx) ks__requant((acc), (idx), prm)
#define KS__INACTIVE ((int8_t)prm->output_offset)
#define KS__SPARSE_ROWS ks__sparse_rows_s8
#define KS__STRUCT_ROWS ks__structured_rows_s8
#define KS__DW_ROWS ks__dw_rows_s8

#include "ks_rows_impl.inc"
