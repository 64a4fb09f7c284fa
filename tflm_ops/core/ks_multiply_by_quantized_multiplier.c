#include "ks_internal.h"

/* Exported so host tests can compare the requantizer against TFLM on
 * arbitrary accumulators, not only on what a layer happens to produce. */
int32_t ks_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    return ks__mbqm(x, multiplier, shift);
}
