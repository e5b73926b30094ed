/*
 * batchnorm.c — BatchNorm over the rows of a row-major [rows, d] batch, per feature (column).
 * Compiled once per SIMD variant (see variant.h).
 *
 * Statistics are per column but the data is row-major, so columns are processed in blocks of
 * BN_BLOCK: for one block, each pass walks all rows and, per row, a contiguous run of BN_BLOCK
 * floats, updating BN_BLOCK per-column double accumulators that live on the stack. The inner loops
 * are contiguous and carry no cross-iteration dependency, so they vectorize; no scratch memory
 * is needed from the caller.
 */
#include <math.h>

#include "variant.h"

enum { BN_BLOCK = 256 };

/*
 * Normalizes columns [j0, j0 + n) of every row: y = ((x - mean_hi) - mean_lo) * scale + shift.
 * The mean is given as a float hi + lo pair so x - mean is accurate for x near the mean.
 */
static void bn_apply_block(const float *x, float *y, int64_t rows, int64_t d, int64_t j0,
                           int64_t n, const float *mean_hi, const float *mean_lo,
                           const float *scale, const float *shift) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d + j0;
        float *yr = y + r * d + j0;
        for (int64_t j = 0; j < n; j++)
            yr[j] = ((xr[j] - mean_hi[j]) - mean_lo[j]) * scale[j] + shift[j];
    }
}

void FFM_VARIANT(batchnorm_infer)(const float *x, const float *running_mean,
                                  const float *running_var, const float *gamma,
                                  const float *beta, float *y, int64_t rows, int64_t d,
                                  float eps) {
    float zero[BN_BLOCK], scale[BN_BLOCK], shift[BN_BLOCK];
    for (int64_t j = 0; j < BN_BLOCK; j++) zero[j] = 0.0f;
    for (int64_t j0 = 0; j0 < d; j0 += BN_BLOCK) {
        const int64_t n = d - j0 < BN_BLOCK ? d - j0 : BN_BLOCK;
        for (int64_t j = 0; j < n; j++) {
            double s = 1.0 / sqrt((double)running_var[j0 + j] + (double)eps);
            if (gamma) s *= gamma[j0 + j];
            scale[j] = (float)s;
            shift[j] = beta ? beta[j0 + j] : 0.0f;
        }
        bn_apply_block(x, y, rows, d, j0, n, running_mean + j0, zero, scale, shift);
    }
}

void FFM_VARIANT(batchnorm_train)(const float *x, const float *gamma, const float *beta,
                                  float *running_mean, float *running_var, float *y,
                                  int64_t rows, int64_t d, float eps, float momentum) {
    double acc[BN_BLOCK], mean[BN_BLOCK];
    float mean_hi[BN_BLOCK], mean_lo[BN_BLOCK], scale[BN_BLOCK], shift[BN_BLOCK];
    const double m = momentum;
    for (int64_t j0 = 0; j0 < d; j0 += BN_BLOCK) {
        const int64_t n = d - j0 < BN_BLOCK ? d - j0 : BN_BLOCK;

        /* pass 1: column sums -> batch mean */
        for (int64_t j = 0; j < n; j++) acc[j] = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * d + j0;
            for (int64_t j = 0; j < n; j++) acc[j] += (double)xr[j];
        }
        for (int64_t j = 0; j < n; j++) {
            mean[j] = acc[j] / (double)rows;
            acc[j] = 0.0;
        }

        /* pass 2: sums of squared deviations -> biased batch variance (two-pass, accurate) */
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * d + j0;
            for (int64_t j = 0; j < n; j++) {
                double dev = (double)xr[j] - mean[j];
                acc[j] += dev * dev;
            }
        }

        for (int64_t j = 0; j < n; j++) {
            const double var = acc[j] / (double)rows;
            const double unbiased = acc[j] / (double)(rows - 1);
            double s = 1.0 / sqrt(var + (double)eps);
            if (gamma) s *= gamma[j0 + j];
            scale[j] = (float)s;
            shift[j] = beta ? beta[j0 + j] : 0.0f;
            mean_hi[j] = (float)mean[j];
            mean_lo[j] = (float)(mean[j] - (double)mean_hi[j]);
            running_mean[j0 + j] = (float)((1.0 - m) * running_mean[j0 + j] + m * mean[j]);
            running_var[j0 + j] = (float)((1.0 - m) * running_var[j0 + j] + m * unbiased);
        }

        /* pass 3: normalize (y may alias x: x of this block is no longer needed after this) */
        bn_apply_block(x, y, rows, d, j0, n, mean_hi, mean_lo, scale, shift);
    }
}
