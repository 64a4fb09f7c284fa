#include "ks_internal.h"

#define KS__T float
#define KS__ACC float
#define KS__PARAMS ks_float_params
#define KS__MAC(acc, wv, xv) ((acc) += (wv) * (xv))
#define KS__EPI(acc, idx) ks__epilogue_f32((acc), (idx), prm)
#define KS__INACTIVE 0.0f
#define KS__SPARSE_ROWS ks__sparse_rows_f32
#define KS__STRUCT_ROWS ks__structured_rows_f32
#define KS__DW_ROWS ks__dw_rows_f32

#include "ks_rows_impl.inc"
