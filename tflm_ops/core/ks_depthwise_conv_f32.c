#include "ks_internal.h"

#define KS__T float
#define KS__PARAMS ks_float_params
#define KS__DTYPE KS_DTYPE_FLOAT32
#define KS__FN ks_depthwise_conv_f32
#define KS__SIZE_FN ks_depthwise_conv_f32_get_buffer_size
#define KS__PARAMS_OK(p) 1
#define KS__DW_ROWS ks__dw_rows_f32

#include "ks_dw_impl.inc"
