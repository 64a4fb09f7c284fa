#include "ks_internal.h"
#include "ks_requant.h"

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
    const ks__rq rq_ = ks__rq_make((p)->multiplier[(i)], (p)->shift[(i)])
#define KS__ROW_EPI(acc) ks__rq_apply((int32_t)((uint32_t)(acc) + (uint32_t)eb_), &rq_, out_off, act_min, act_max)
#define KS__MAC(acc, wv, xv) ((acc) = ks__wrap_add((acc), (wv) * ((int32_t)(xv) + in_off)))
#define KS__MAC_NOOFF(acc, wv, xv) ((acc) = ks__wrap_add((acc), (wv) * (int32_t)(xv)))
#define KS__FOLD_DECL uint32_t fs_ = 0
#define KS__FOLD_ADD(wv) (fs_ += (uint32_t)(wv))
#define KS__FOLD_END folded_ = (int32_t)((uint32_t)in_off * fs_)
#define KS__FOLDED folded_
#define KS__CHANNEL_DECL int32_t folded_ = 0
#define KS__INACTIVE ((int8_t)out_off)

#include "ks_dw_impl.inc"
