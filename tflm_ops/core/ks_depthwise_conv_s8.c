#include "ks_internal.h"

#define KS__T int8_t
#define KS__PARAMS ks_quant_params
#define KS__DTYPE KS_DTYPE_INT8
#define KS__FN ks_depthwise_conv_s8
#define KS__SIZE_FN ks_depthwise_conv_s8_get_buffer_size
#define KS__PARAMS_OK(p) ((p)->multiplier != NULL && (p)->shift != NULL)
#define KS__DW_ROWS ks__dw_rows_s8

#include "ks_dw_impl.inc"
