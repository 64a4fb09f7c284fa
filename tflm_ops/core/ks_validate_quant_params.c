#include <stddef.h>

#include "ks_ops.h"

ks_status ks_validate_quant_params(const ks_quant_params *q, int32_t num_levels, int32_t rows)
{
    int32_t n;
    int32_t i;
    if (q == NULL || q->multiplier == NULL || q->shift == NULL) {
        return KS_ERR_ARG;
    }
    if (num_levels < 1 || num_levels > KS_MAX_LEVELS || rows < 0) {
        return KS_ERR_ARG;
    }
    /* input_offset must keep -input_offset representable as int8: the conv
     * kernels pad windows with that value. */
    if (q->input_offset < -127 || q->input_offset > 128 || q->output_offset < -128 ||
        q->output_offset > 127 || q->act_min < -128 || q->act_max > 127 || q->act_min > q->act_max) {
        return KS_ERR_ARG;
    }
    n = q->per_level ? num_levels * rows : rows;
    for (i = 0; i < n; ++i) {
        /* The requantizer's shifts are only defined on this range; a negative
         * multiplier negates the accumulator, so INT32_MIN has no magnitude. */
        if (q->multiplier[i] == INT32_MIN || q->shift[i] < -31 || q->shift[i] > 30) {
            return KS_ERR_ARG;
        }
    }
    return KS_OK;
}
