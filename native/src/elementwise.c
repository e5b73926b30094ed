/*
 * elementwise.c — the decoder's non-normalization elementwise ops: softmax, SwiGLU gate,
 * residual add and rotary position embedding. Compiled once per SIMD variant (see variant.h).
 */
#include <math.h>

#include "rowops.h"
#include "variant.h"

void FFM_VARIANT(softmax)(const float *x, float *y, int64_t rows, int64_t d) {
    if (d <= 0) return;
    for (int64_t r = 0; r < rows; r++) ffm_softmax_row(x + r * d, y + r * d, d);
}

void FFM_VARIANT(silu_mul)(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + ffm_expf(-g)) * up[i];
    }
}

void FFM_VARIANT(add)(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* Pairs whose cos/sin are computed together; any head_size is processed in chunks of this. */
enum { ROPE_CHUNK_PAIRS = 256 };

/*
 * Per row (one position) and per chunk of pairs: cos/sin of pos * freq computed once in double,
 * then applied in float to that chunk of every head.
 */
void FFM_VARIANT(rope)(float *x, int64_t rows, int64_t n_heads, int64_t head_size, int64_t pos0,
                       float theta) {
    const int64_t pairs = head_size / 2;
    double freq[ROPE_CHUNK_PAIRS];
    float cosv[ROPE_CHUNK_PAIRS], sinv[ROPE_CHUNK_PAIRS];
    for (int64_t p0 = 0; p0 < pairs; p0 += ROPE_CHUNK_PAIRS) {
        const int64_t np = pairs - p0 < ROPE_CHUNK_PAIRS ? pairs - p0 : ROPE_CHUNK_PAIRS;
        /* freq = theta^(-i / head_size) for the pair starting at element i = 2 * pair */
        for (int64_t k = 0; k < np; k++)
            freq[k] = pow((double)theta, -(double)(2 * (p0 + k)) / (double)head_size);
        for (int64_t r = 0; r < rows; r++) {
            const double pos = (double)(pos0 + r);
            for (int64_t k = 0; k < np; k++) {
                const double a = pos * freq[k];
                cosv[k] = (float)cos(a);
                sinv[k] = (float)sin(a);
            }
            float *xr = x + r * n_heads * head_size;
            for (int64_t h = 0; h < n_heads; h++) {
                float *xp = xr + h * head_size + 2 * p0;
                for (int64_t k = 0; k < np; k++) {
                    const float x0 = xp[2 * k], x1 = xp[2 * k + 1];
                    xp[2 * k] = x0 * cosv[k] - x1 * sinv[k];
                    xp[2 * k + 1] = x0 * sinv[k] + x1 * cosv[k];
                }
            }
        }
    }
}
