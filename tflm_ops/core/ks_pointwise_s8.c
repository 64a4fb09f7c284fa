/*
 * Sparse int8 1x1 convolution over contiguous pixels, output-channel outer
 * (internal; ks_conv_s8 calls it for 1x1, stride 1, unpadded layers whose
 * output has the input's spatial shape).
 *
 * Per output channel the level's entries, the requantizer and the folded
 * input offset are set up once:
 *     Σ w*(x + input_offset) + bias = Σ w*x + (bias + input_offset*Σw)
 * (exact in wrapping int32 arithmetic, so bit-identical to the per-pixel
 * loop), then the entries are swept over four pixels at a time: one index
 * and one weight load serve four multiply-adds.
 */
#include "ks_dsp.h"
#include "ks_internal.h"
#include "ks_requant.h"

#define KS__PW_PIX 4

typedef struct {
    const int8_t *v;
    const void *idx;
    const void *p; /* uint16_t or int32_t level pointers (format v2) */
    int32_t L, level, stride, count, rows;
    int32_t C, npix;
    int32_t in_off, out_off, act_min, act_max;
    const int32_t *bias, *mult;
    const int8_t *shift;
} ks__pw_args;

#define KS__PW_RANGE_PTR                                                       \
    b = (int32_t)p[0];                                                         \
    e = (int32_t)p[level + 1];                                                 \
    p += L
#define KS__PW_RANGE_ROW                                                       \
    b = o * stride;                                                            \
    e = b + count

/* BLK = 1: entry j covers columns 2*I[j], 2*I[j]+1 (values 2j, 2j+1). */
#define KS__DEFINE_PW(NAME, RANGE, PTYPE, ITYPE, BLK)                          \
    static void NAME(const ks__pw_args *a, const int8_t *x, int8_t *y)         \
    {                                                                          \
        const int8_t *v = a->v;                                                \
        const ITYPE *idx = (const ITYPE *)a->idx;                              \
        const PTYPE *p = (const PTYPE *)a->p;                                  \
        const int32_t L = a->L;                                                \
        const int32_t level = a->level;                                        \
        const int32_t stride = a->stride;                                      \
        const int32_t count = a->count;                                        \
        const int32_t rows = a->rows;                                          \
        const int32_t C = a->C;                                                \
        const int32_t npix = a->npix;                                          \
        const int32_t in_off = a->in_off;                                      \
        const int32_t out_off = a->out_off;                                    \
        const int32_t act_min = a->act_min;                                    \
        const int32_t act_max = a->act_max;                                    \
        int32_t o;                                                             \
        (void)p;                                                               \
        (void)L;                                                               \
        (void)level;                                                           \
        (void)stride;                                                          \
        (void)count;                                                           \
        for (o = 0; o < rows; ++o) {                                           \
            int32_t b;                                                         \
            int32_t e;                                                         \
            int32_t j;                                                         \
            int32_t px;                                                        \
            uint32_t sw = 0;                                                   \
            int32_t beff;                                                      \
            const int8_t *xp = x;                                              \
            int8_t *yp = y + o;                                                \
            ks__rq rq;                                                         \
            RANGE;                                                             \
            for (j = (1 + BLK) * b; j < (1 + BLK) * e; ++j) {                  \
                sw += (uint32_t)(int32_t)v[j];                                 \
            }                                                                  \
            beff = (int32_t)((a->bias != NULL ? (uint32_t)a->bias[o] : 0u) +   \
                             (uint32_t)in_off * sw);                           \
            rq = ks__rq_make(a->mult[o], a->shift[o]);                         \
            for (px = 0; px + KS__PW_PIX <= npix; px += KS__PW_PIX) {          \
                int32_t acc0 = beff;                                           \
                int32_t acc1 = beff;                                           \
                int32_t acc2 = beff;                                           \
                int32_t acc3 = beff;                                           \
                const ITYPE *ip = idx + b;                                     \
                const ITYPE *ie = idx + e;                                     \
                const int8_t *vp = v + (1 + BLK) * b;                          \
                const int8_t *x1 = xp + C;                                     \
                const int8_t *x2 = x1 + C;                                     \
                const int8_t *x3 = x2 + C;                                     \
                for (; ip < ie; ++ip) {                                        \
                    const int32_t c = (1 + BLK) * (int32_t)*ip;                \
                    const int32_t w0 = *vp++;                                  \
                    acc0 = ks__wrap_add(acc0, w0 * xp[c]);                                        \
                    acc1 = ks__wrap_add(acc1, w0 * x1[c]);                                        \
                    acc2 = ks__wrap_add(acc2, w0 * x2[c]);                                        \
                    acc3 = ks__wrap_add(acc3, w0 * x3[c]);                                        \
                    if (BLK) {                                                 \
                        const int32_t w1 = *vp++;                              \
                        acc0 = ks__wrap_add(acc0, w1 * xp[c + 1]);                                \
                        acc1 = ks__wrap_add(acc1, w1 * x1[c + 1]);                                \
                        acc2 = ks__wrap_add(acc2, w1 * x2[c + 1]);                                \
                        acc3 = ks__wrap_add(acc3, w1 * x3[c + 1]);                                \
                    }                                                          \
                }                                                              \
                yp[0] = ks__rq_apply(acc0, &rq, out_off, act_min, act_max);    \
                yp[rows] = ks__rq_apply(acc1, &rq, out_off, act_min, act_max); \
                yp[2 * rows] = ks__rq_apply(acc2, &rq, out_off, act_min, act_max); \
                yp[3 * rows] = ks__rq_apply(acc3, &rq, out_off, act_min, act_max); \
                xp += KS__PW_PIX * C;                                          \
                yp += KS__PW_PIX * rows;                                       \
            }                                                                  \
            for (; px < npix; ++px) {                                          \
                int32_t acc = beff;                                            \
                const int8_t *vp = v + (1 + BLK) * b;                          \
                for (j = b; j < e; ++j) {                                      \
                    const int32_t c = (1 + BLK) * (int32_t)idx[j];             \
                    acc = ks__wrap_add(acc, *vp++ * xp[c]);                                      \
                    if (BLK) {                                                 \
                        acc = ks__wrap_add(acc, *vp++ * xp[c + 1]);                              \
                    }                                                          \
                }                                                              \
                *yp = ks__rq_apply(acc, &rq, out_off, act_min, act_max);       \
                xp += C;                                                       \
                yp += rows;                                                    \
            }                                                                  \
        }                                                                      \
    }

KS__DEFINE_PW(pw_csr_p16_u8, KS__PW_RANGE_PTR, uint16_t, uint8_t, 0)
KS__DEFINE_PW(pw_csr_p16_u16, KS__PW_RANGE_PTR, uint16_t, uint16_t, 0)
KS__DEFINE_PW(pw_csr_p32_u8, KS__PW_RANGE_PTR, int32_t, uint8_t, 0)
KS__DEFINE_PW(pw_csr_p32_u16, KS__PW_RANGE_PTR, int32_t, uint16_t, 0)
KS__DEFINE_PW(pw_row_u8, KS__PW_RANGE_ROW, int32_t, uint8_t, 0)
KS__DEFINE_PW(pw_row_u16, KS__PW_RANGE_ROW, int32_t, uint16_t, 0)
KS__DEFINE_PW(pw_blk_p16_u8, KS__PW_RANGE_PTR, uint16_t, uint8_t, 1)
KS__DEFINE_PW(pw_blk_p16_u16, KS__PW_RANGE_PTR, uint16_t, uint16_t, 1)
KS__DEFINE_PW(pw_blk_p32_u8, KS__PW_RANGE_PTR, int32_t, uint8_t, 1)
KS__DEFINE_PW(pw_blk_p32_u16, KS__PW_RANGE_PTR, int32_t, uint16_t, 1)

int32_t ks__sparse_pointwise_s8(const ks_matrix *w, int32_t level, const int8_t *x, int32_t npix,
                                const ks_quant_params *q, int32_t qbase, int8_t *y)
{
    const int32_t fmt = w->format;
    const int32_t is_block = fmt == KS_FORMAT_NESTED_BLOCK;
    ks__pw_args a;
    int32_t u8;
    int32_t p16;

    if (fmt == KS_FORMAT_STRUCTURED) {
        ks__structured_pointwise_s8(w, level, x, npix, q, qbase, y);
        return 1;
    }
    if (is_block && (w->cols & 1)) {
        return 0; /* not handled: the caller uses the per-pixel rows */
    }
    u8 = ks_index_is_u8(is_block ? w->cols / 2 : w->cols);
    a.v = (const int8_t *)w->values;
    a.idx = w->indices;
    a.p = w->ptr;
    a.L = w->num_levels;
    a.level = level;
    a.rows = w->rows;
    a.stride = fmt == KS_FORMAT_ROW ? w->counts[w->num_levels - 1] : 0;
    a.count = fmt == KS_FORMAT_ROW ? w->counts[level] : 0;
    a.C = w->cols;
    a.npix = npix;
    a.in_off = q->input_offset;
    a.out_off = q->output_offset;
    a.act_min = q->act_min;
    a.act_max = q->act_max;
    a.bias = q->bias != NULL ? q->bias + qbase : NULL;
    a.mult = q->multiplier + qbase;
    a.shift = q->shift + qbase;
    p16 = ks_ptr_is_u16(w->num_indices);
    if (is_block) {
        if (p16) {
            (u8 ? pw_blk_p16_u8 : pw_blk_p16_u16)(&a, x, y);
        } else {
            (u8 ? pw_blk_p32_u8 : pw_blk_p32_u16)(&a, x, y);
        }
    } else if (fmt == KS_FORMAT_ROW) {
        (u8 ? pw_row_u8 : pw_row_u16)(&a, x, y);
    } else if (p16) {
        (u8 ? pw_csr_p16_u8 : pw_csr_p16_u16)(&a, x, y);
    } else {
        (u8 ? pw_csr_p32_u8 : pw_csr_p32_u16)(&a, x, y);
    }
    return 1;
}
