/*
 * rowops.h — row operations shared by several kernel families of one variant.
 */
#ifndef FFMLLAMA_ROWOPS_H
#define FFMLLAMA_ROWOPS_H

#include "simd.h"

/*
 * Softmax of one row (n >= 1), max-subtracted: y = exp(x - max) / sum. y may alias x.
 * exp runs in float (ffm_expf, vectorized); the sum is accumulated in double.
 */
static inline void ffm_softmax_row(const float *x, float *y, int64_t n) {
    const float max = ffm_max_f32(x, n);
    for (int64_t i = 0; i < n; i++) y[i] = ffm_expf(x[i] - max);
    const float inv = (float)(1.0 / ffm_sum_f64(y, n));
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

#endif /* FFMLLAMA_ROWOPS_H */
