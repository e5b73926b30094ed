/*
 * norm.c — per-row normalizations: RMSNorm (plain and Gemma's 1 + w), LayerNorm, their fused
 * residual-add forms, and DeepNorm. Compiled once per SIMD variant (see variant.h).
 *
 * Each row: reduce in double (simd.h), then one float pass y = x * scale * w (+ b). A row is read
 * twice; at d = 16384 (64 KiB) the second read hits L2, so the kernel stays near memory speed.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "simd.h"
#include "variant.h"

enum { NORM_CHUNK = 2048, OUT_OF_PLACE_CHUNKED = 4096 };

/* y[i] = x[i] * sf * (w[i] + w_offset) for i < n, in float (w NULL: w = 1). */
static inline void scale_span(const float *x, const float *w, float w_offset, float *y, int64_t n,
                              float sf) {
    if (w == NULL) {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sf;
    } else if (w_offset == 0.0f) {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sf * w[i];
    } else {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sf * (w[i] + w_offset);
    }
}

/*
 * The scale pass y[i] = x[i] * s * (w[i] + w_offset), in float. w may be NULL (w = 1).
 * s = 1/sqrt(mean + eps) is only out of float range for subnormal rows with eps = 0; then the
 * pass runs in double so those rows still normalize.
 */
static void scale_row(const float *x, const float *w, float w_offset, float *y, int64_t d,
                      double s) {
    if (!(s <= FLT_MAX)) {
        for (int64_t i = 0; i < d; i++) {
            double wi = w ? (double)w[i] + w_offset : 1.0;
            y[i] = (float)((double)x[i] * s * wi);
        }
        return;
    }
    const float sf = (float)s;
    if (y != x && d >= OUT_OF_PLACE_CHUNKED) {
        /* Long rows written elsewhere: compute a chunk into an L1 buffer, then memcpy it out. The
         * library copy writes whole lines without first reading them (rep movsb), where plain vector
         * stores make the core fetch every line of y before overwriting it. Measured (JMH, rows 64,
         * d 16384, 4 MiB per tensor): 141 -> 118 us, against 80 us for a plain copy of x to y. */
        float buf[NORM_CHUNK] __attribute__((aligned(64)));
        for (int64_t c = 0; c < d; c += NORM_CHUNK) {
            const int64_t n = d - c < NORM_CHUNK ? d - c : NORM_CHUNK;
            scale_span(x + c, w ? w + c : NULL, w_offset, buf, n, sf);
            memcpy(y + c, buf, (size_t)n * sizeof(float));
        }
        return;
    }
    scale_span(x, w, w_offset, y, d, sf);
}

/*
 * y = (x - mean) * s * w + b, in float; w/b may be NULL. As scale_row for out-of-range s.
 * The double mean is split into float hi + lo and subtracted as (x - hi) - lo: x - hi is exact
 * for x near the mean (Sterbenz), so rows with a large offset and small spread (mean/std ~ 1e5)
 * keep their precision instead of losing it to the rounding of the mean to float.
 */
static void center_scale_row(const float *x, const float *w, const float *b, float *y,
                             int64_t d, double mean, double s) {
    if (!(s <= FLT_MAX)) {
        for (int64_t i = 0; i < d; i++) {
            double v = ((double)x[i] - mean) * s;
            if (w) v *= w[i];
            if (b) v += b[i];
            y[i] = (float)v;
        }
        return;
    }
    const float hi = (float)mean, lo = (float)(mean - (double)hi), sf = (float)s;
    if (w && b) {
        for (int64_t i = 0; i < d; i++) y[i] = ((x[i] - hi) - lo) * sf * w[i] + b[i];
    } else if (w) {
        for (int64_t i = 0; i < d; i++) y[i] = ((x[i] - hi) - lo) * sf * w[i];
    } else if (b) {
        for (int64_t i = 0; i < d; i++) y[i] = ((x[i] - hi) - lo) * sf + b[i];
    } else {
        for (int64_t i = 0; i < d; i++) y[i] = ((x[i] - hi) - lo) * sf;
    }
}

static inline double rms_scale(const float *x, int64_t d, float eps) {
    return 1.0 / sqrt(ffm_sum_sq_f64(x, d) / (double)d + (double)eps);
}

/* Two-pass mean and biased variance, both in double; writes the mean, returns 1/sqrt(var+eps). */
static inline double layernorm_scale(const float *x, int64_t d, float eps, double *mean) {
    const double m = ffm_sum_f64(x, d) / (double)d;
    *mean = m;
    return 1.0 / sqrt(ffm_sum_sq_dev_f64(x, d, m) / (double)d + (double)eps);
}

static inline void add_rows(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void FFM_VARIANT(rmsnorm)(const float *x, const float *w, float *y, int64_t rows, int64_t d,
                          float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        scale_row(xr, w, 0.0f, y + r * d, d, rms_scale(xr, d, eps));
    }
}

void FFM_VARIANT(rmsnorm_gemma)(const float *x, const float *w, float *y, int64_t rows,
                                int64_t d, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        scale_row(xr, w, 1.0f, y + r * d, d, rms_scale(xr, d, eps));
    }
}

void FFM_VARIANT(layernorm)(const float *x, const float *w, const float *b, float *y,
                            int64_t rows, int64_t d, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        double mean;
        double s = layernorm_scale(xr, d, eps, &mean);
        center_scale_row(xr, w, b, y + r * d, d, mean, s);
    }
}

/* r_out may alias x or residual: r is written to r_out first, then normalized from r_out. */
void FFM_VARIANT(add_rmsnorm)(const float *x, const float *residual, const float *w,
                              float *r_out, float *y, int64_t rows, int64_t d, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        float *rr = r_out + r * d;
        add_rows(x + r * d, residual + r * d, rr, d);
        scale_row(rr, w, 0.0f, y + r * d, d, rms_scale(rr, d, eps));
    }
}

void FFM_VARIANT(add_layernorm)(const float *x, const float *residual, const float *w,
                                const float *b, float *r_out, float *y, int64_t rows, int64_t d,
                                float eps) {
    for (int64_t r = 0; r < rows; r++) {
        float *rr = r_out + r * d;
        add_rows(x + r * d, residual + r * d, rr, d);
        double mean;
        double s = layernorm_scale(rr, d, eps, &mean);
        center_scale_row(rr, w, b, y + r * d, d, mean, s);
    }
}

/* y may alias x or f: the combined row alpha*x + f is built in y, then normalized in place. */
void FFM_VARIANT(deepnorm)(const float *x, const float *f, float alpha, const float *w,
                           const float *b, float *y, int64_t rows, int64_t d, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d, *fr = f + r * d;
        float *yr = y + r * d;
        for (int64_t i = 0; i < d; i++) yr[i] = alpha * xr[i] + fr[i];
        double mean;
        double s = layernorm_scale(yr, d, eps, &mean);
        center_scale_row(yr, w, b, yr, d, mean, s);
    }
}
