#include "ks_internal.h"

#define KS__T int8_t
#define KS__ACC int32_t
#define KS__PARAMS ks_quant_params
#define KS__DTYPE KS_DTYPE_INT8
#define KS__FN ks_depthwise_conv_s8
#define KS__SIZE_FN ks_depthwise_conv_s8_get_buffer_size
#define KS__PARAMS_OK(p) ((p)->multiplier != NULL && (p)->shift != NULL)
#define KS__EPI_GLOBALS(p)                                                     \
    const int32_t in_off = (p)->input_offset;                                  \
    const int32_t out_off = (p)->output_offset;                                \
    const int32_t act_min = (p)->act_min;                                      \
    const int32_t act_max = (p)->act_max
#define KS__ROW_EPI_DECL(p, i)                                                 \
    const int32_t eb_ = (p)->bias != NULL ? (p)->bias[(i)] : 0;                \
    const int32_t em_ = (p)->multiplier[(i)];                                  \
    const int32_t es_ = (p)->shift[(i)]
#define KS__ROW_EPI(acc) ks__requant_c((acc) + eb_, em_, es_, out_off, act_min, act_max)
#define KS__MAC(acc, wv, xv) ((acc) += (wv) * ((int32_t)(xv) + in_off))
#define KS__INACTIVE ((int8_t)out_off)

#include "ks_dw_impl.inc"
