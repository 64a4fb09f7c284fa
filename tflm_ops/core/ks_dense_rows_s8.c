// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The keras-subnets Authors

#if !defined(KS_CMSIS_NN)
#include "ks_dense_internal.h"

/*
 * Two rows at a time against nv (1 or 2, a constant after inlining) input
 * vectors, the blocking CMSIS-NN's DSP kernels use: each weight word is
 * loaded and sign-extended once for both vectors, each input word once for
 * both rows.  Accumulation wraps modulo 2^32 (SMLAD does; the C path goes
 * through uint32), which is what TFLM's int32 sums do on the same inputs.
 */
static inline void ks__rows2(const int8_t *r0, const int8_t *r1, int32_t cols, const int8_t *x0,
                             const int8_t *x1, int32_t in_off, int32_t nv, int32_t *acc)
{
    uint32_t a00 = 0;
    uint32_t a01 = 0;
    uint32_t a10 = 0;
    uint32_t a11 = 0;
    int32_t j = cols;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(in_off);
    for (; j >= 4; j -= 4) {
        const uint32_t xa = ks__read_u32(x0);
        const uint32_t xa13 = ks__sxtab16_ror8(off2, xa);
        const uint32_t xa02 = ks__sxtab16(off2, xa);
        const uint32_t k0 = ks__read_u32(r0);
        const uint32_t k1 = ks__read_u32(r1);
        const uint32_t k013 = ks__sxtb16_ror8(k0);
        const uint32_t k002 = ks__sxtb16(k0);
        const uint32_t k113 = ks__sxtb16_ror8(k1);
        const uint32_t k102 = ks__sxtb16(k1);
        x0 += 4;
        r0 += 4;
        r1 += 4;
        a00 = (uint32_t)ks__smlad(k013, xa13, (int32_t)a00);
        a00 = (uint32_t)ks__smlad(k002, xa02, (int32_t)a00);
        a10 = (uint32_t)ks__smlad(k113, xa13, (int32_t)a10);
        a10 = (uint32_t)ks__smlad(k102, xa02, (int32_t)a10);
        if (nv == 2) {
            const uint32_t xb = ks__read_u32(x1);
            const uint32_t xb13 = ks__sxtab16_ror8(off2, xb);
            const uint32_t xb02 = ks__sxtab16(off2, xb);
            x1 += 4;
            a01 = (uint32_t)ks__smlad(k013, xb13, (int32_t)a01);
            a01 = (uint32_t)ks__smlad(k002, xb02, (int32_t)a01);
            a11 = (uint32_t)ks__smlad(k113, xb13, (int32_t)a11);
            a11 = (uint32_t)ks__smlad(k102, xb02, (int32_t)a11);
        }
    }
#endif
    for (; j > 0; --j) {
        const int32_t w0 = *r0++;
        const int32_t w1 = *r1++;
        const int32_t xa = *x0++ + in_off;
        a00 += (uint32_t)(w0 * xa);
        a10 += (uint32_t)(w1 * xa);
        if (nv == 2) {
            const int32_t xb = *x1++ + in_off;
            a01 += (uint32_t)(w0 * xb);
            a11 += (uint32_t)(w1 * xb);
        }
    }
    acc[0] = (int32_t)a00;
    acc[1] = (int32_t)a10;
    acc[2] = (int32_t)a01;
    acc[3] = (int32_t)a11;
}

static inline void ks__rows1(const int8_t *r0, int32_t cols, const int8_t *x0, const int8_t *x1,
                             int32_t in_off, int32_t nv, int32_t *acc)
{
    uint32_t a0 = 0;
    uint32_t a1 = 0;
    int32_t j = cols;
#if KS_HAVE_DSP
    const uint32_t off2 = ks__dup16(in_off);
    for (; j >= 4; j -= 4) {
        const uint32_t k = ks__read_u32(r0);
        const uint32_t k13 = ks__sxtb16_ror8(k);
        const uint32_t k02 = ks__sxtb16(k);
        const uint32_t xa = ks__read_u32(x0);
        r0 += 4;
        x0 += 4;
        a0 = (uint32_t)ks__smlad(k13, ks__sxtab16_ror8(off2, xa), (int32_t)a0);
        a0 = (uint32_t)ks__smlad(k02, ks__sxtab16(off2, xa), (int32_t)a0);
        if (nv == 2) {
            const uint32_t xb = ks__read_u32(x1);
            x1 += 4;
            a1 = (uint32_t)ks__smlad(k13, ks__sxtab16_ror8(off2, xb), (int32_t)a1);
            a1 = (uint32_t)ks__smlad(k02, ks__sxtab16(off2, xb), (int32_t)a1);
        }
    }
#endif
    for (; j > 0; --j) {
        const int32_t w0 = *r0++;
        a0 += (uint32_t)(w0 * (*x0++ + in_off));
        if (nv == 2) {
            a1 += (uint32_t)(w0 * (*x1++ + in_off));
        }
    }
    acc[0] = (int32_t)a0;
    acc[1] = (int32_t)a1;
}

static inline void ks__rows_nv(const int8_t *w, int32_t rows, int32_t cols, const int8_t *x0, const int8_t *x1,
                               const ks__dq *e, int8_t *y0, int8_t *y1, int32_t nv)
{
    int32_t acc[4];
    int32_t o;
    for (o = 0; o + 1 < rows; o += 2) {
        ks__rows2(w, w + cols, cols, x0, x1, e->in_off, nv, acc);
        w += 2 * cols;
        y0[o] = ks__dq_out(acc[0], o, e);
        y0[o + 1] = ks__dq_out(acc[1], o + 1, e);
        if (nv == 2) {
            y1[o] = ks__dq_out(acc[2], o, e);
            y1[o + 1] = ks__dq_out(acc[3], o + 1, e);
        }
    }
    if (o < rows) {
        ks__rows1(w, cols, x0, x1, e->in_off, nv, acc);
        y0[o] = ks__dq_out(acc[0], o, e);
        if (nv == 2) {
            y1[o] = ks__dq_out(acc[1], o, e);
        }
    }
}

void ks__dense_rows_s8(const int8_t *w, int32_t rows, int32_t cols, const int8_t *x0, const int8_t *x1,
                       const ks__dq *e, int8_t *y0, int8_t *y1)
{
    if (x1 != NULL) {
        ks__rows_nv(w, rows, cols, x0, x1, e, y0, y1, 2);
    } else {
        ks__rows_nv(w, rows, cols, x0, x0, e, y0, y0, 1);
    }
}
#else
/* ISO C forbids an empty translation unit. */
typedef int ks__dense_rows_s8_unused;
#endif /* !KS_CMSIS_NN */
