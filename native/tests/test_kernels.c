/*
 * test_kernels.c — checks every kernel of libffmllama, in every SIMD variant this CPU runs,
 * against float64 references written here.
 *
 * Inputs cover odd and SIMD-multiple sizes, unaligned pointers (every buffer starts one float past
 * a malloc'd block and ends exactly at its end, so ASan sees any overrun), adversarial rows
 * (zeros, constants, |x| ~ 1e20, tiny values with eps = 0, large offset + small spread, isolated
 * spikes) and the in-place / aliasing forms the header allows.
 *
 * Plain C, no framework: prints "N passed, M failed" and exits non-zero on any failure.
 * Built by `make test` (optimized) and `make sanitize-test` (ASan + UBSan).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffmllama.h"
#include "ffmllama_quant.h"

static const char *const VARIANTS[] = {"baseline", "avx2", "avx512"};
enum { N_VARIANTS = 3 };
static int variant_ok[N_VARIANTS];

static const int64_t DIMS[] = {1, 7, 8, 15, 16, 17, 64, 1000, 4096, 6151}; /* 6151: chunked out-of-place rows with a tail */
static const int64_t ROWS[] = {1, 3, 17};
enum { N_DIMS = sizeof DIMS / sizeof DIMS[0], N_ROWS = sizeof ROWS / sizeof ROWS[0] };

static int passed, failed;

/* ---- buffers and data ------------------------------------------------------------------------- */

/* n floats starting one float past the malloc'd block (unaligned), ending at the block's end. */
static float *alloc_f(int64_t n) {
    float *base = malloc((size_t)(n + 1) * sizeof(float));
    if (!base) {
        perror("malloc");
        exit(2);
    }
    return base + 1;
}
static void free_f(float *p) {
    if (p) free(p - 1);
}
static double *alloc_d(int64_t n) {
    double *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!p) {
        perror("malloc");
        exit(2);
    }
    return p;
}
static float *dup_f(const float *src, int64_t n) {
    float *p = alloc_f(n);
    memcpy(p, src, (size_t)n * sizeof(float));
    return p;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
/* uniform in [-1, 1) (xorshift64*) */
static double urand(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t v = rng_state * 0x2545F4914F6CDD1Dull;
    return (double)(v >> 11) / 4503599627370496.0 - 1.0;
}

/* The kinds of input rows every normalization sees. */
enum kind { K_RANDOM, K_ZEROS, K_CONSTANT, K_HUGE, K_TINY, K_OFFSET, K_SPIKES, N_KINDS };
static const char *const KIND_NAMES[] = {"random", "zeros",  "constant", "huge",
                                         "tiny",   "offset", "spikes"};

static void fill(float *x, int64_t n, enum kind k) {
    for (int64_t i = 0; i < n; i++) {
        double u = urand();
        switch (k) {
        case K_RANDOM: x[i] = (float)(3.0 * u + 0.5); break;
        case K_ZEROS: x[i] = 0.0f; break;
        case K_CONSTANT: x[i] = 2.5f; break;
        case K_HUGE: x[i] = (float)((u < 0 ? -1e20 : 1e20) * (1.0 + 0.5 * urand())); break;
        case K_TINY: x[i] = (float)(1e-20 * u); break;
        case K_OFFSET: x[i] = (float)(1000.0 + 0.01 * u); break;
        case K_SPIKES: x[i] = (float)(i % 7 == 3 ? (u < 0 ? -1e15 : 1e15) : u); break;
        default: break;
        }
    }
}
static void fill_uniform(float *x, int64_t n, double lo, double hi) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * 0.5 * (urand() + 1.0));
}
/* eps for a kind: 0 for tiny rows, so the scale 1/sqrt(mean x^2) itself is exercised. */
static float eps_for(enum kind k) { return k == K_TINY ? 0.0f : 1e-5f; }

/* ---- comparison ------------------------------------------------------------------------------- */

static double max_abs(const double *v, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(v[i]) > m) m = fabs(v[i]);
    return m;
}

/*
 * One check: every got[i] within atol + rtol * |ref[i]| of ref[i] (NaN only where ref is NaN).
 * what/variant/... identify the case in the failure message.
 */
static void expect_close(const char *what, const char *variant, const char *detail,
                         const float *got, const double *ref, int64_t n, double rtol,
                         double atol) {
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        if (isinf((float)r)) r = (float)r; /* beyond float range: the kernel must give inf */
        int ok = isnan(r) ? isnan(g) : (!isnan(g) && (g == r || fabs(g - r) <= atol + rtol * fabs(r)));
        if (!ok) {
            failed++;
            printf("FAIL %-16s [%s] %s: at %lld got %.9g want %.9g (|err| %.3g, tol %.3g)\n", what,
                   variant, detail, (long long)i, g, r, fabs(g - r), atol + rtol * fabs(r));
            return;
        }
    }
    passed++;
}

/* Scale-aware tolerance for normalized outputs: relative to the largest reference value. */
static void expect_norm(const char *what, const char *variant, const char *detail,
                        const float *got, const double *ref, int64_t n) {
    expect_close(what, variant, detail, got, ref, n, 1e-6, 1e-6 * max_abs(ref, n));
}

static void expect_exact(const char *what, const char *variant, const char *detail,
                         const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            failed++;
            printf("FAIL %-16s [%s] %s: at %lld got %.9g want %.9g (must be exact)\n", what,
                   variant, detail, (long long)i, got[i], want[i]);
            return;
        }
    }
    passed++;
}

/* Runs body once per variant the CPU supports, with `variant` naming it. */
#define FOR_EACH_VARIANT(variant)                                                             \
    for (int vi_ = 0; vi_ < N_VARIANTS; vi_++)                                                \
        for (const char *variant = VARIANTS[vi_];                                             \
             variant && variant_ok[vi_] && ffm_set_kernel_variant(variant) == 0; variant = NULL)

/* ---- references (float64) ----------------------------------------------------------------------- */

/* RMSNorm (gemma: weight 1 + w) of rows of x, into ref. */
static void ref_rmsnorm(const double *x, const float *w, int gemma, double *ref, int64_t rows,
                        int64_t d, double eps) {
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * d;
        double ss = 0;
        for (int64_t i = 0; i < d; i++) ss += xr[i] * xr[i];
        double s = 1.0 / sqrt(ss / d + eps);
        for (int64_t i = 0; i < d; i++)
            ref[r * d + i] = xr[i] * s * (w ? (gemma ? 1.0 + w[i] : w[i]) : 1.0);
    }
}

static void ref_layernorm(const double *x, const float *w, const float *b, double *ref,
                          int64_t rows, int64_t d, double eps) {
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * d;
        double m = 0, v = 0;
        for (int64_t i = 0; i < d; i++) m += xr[i];
        m /= d;
        for (int64_t i = 0; i < d; i++) v += (xr[i] - m) * (xr[i] - m);
        double s = 1.0 / sqrt(v / d + eps);
        for (int64_t i = 0; i < d; i++)
            ref[r * d + i] = (xr[i] - m) * s * (w ? w[i] : 1.0) + (b ? b[i] : 0.0);
    }
}

static double *to_double(const float *x, int64_t n) {
    double *o = alloc_d(n);
    for (int64_t i = 0; i < n; i++) o[i] = x[i];
    return o;
}

/* ---- normalization tests ---------------------------------------------------------------------- */

static void test_rmsnorm(int64_t rows, int64_t d, enum kind k) {
    const int64_t n = rows * d;
    float *x = alloc_f(n), *w = alloc_f(d);
    fill(x, n, k);
    fill_uniform(w, d, -1.5, 1.5);
    const float eps = eps_for(k);
    double *xd = to_double(x, n), *ref = alloc_d(n), *ref_g = alloc_d(n);
    ref_rmsnorm(xd, w, 0, ref, rows, d, eps);
    ref_rmsnorm(xd, w, 1, ref_g, rows, d, eps);
    char detail[96];
    snprintf(detail, sizeof detail, "rows=%lld d=%lld %s", (long long)rows, (long long)d,
             KIND_NAMES[k]);
    FOR_EACH_VARIANT(v) {
        float *y = alloc_f(n), *xi = dup_f(x, n);
        ffm_rmsnorm(x, w, y, rows, d, eps);
        expect_norm("rmsnorm", v, detail, y, ref, n);
        ffm_rmsnorm(xi, w, xi, rows, d, eps); /* in place */
        expect_norm("rmsnorm y==x", v, detail, xi, ref, n);
        ffm_rmsnorm_gemma(x, w, y, rows, d, eps);
        expect_norm("rmsnorm_gemma", v, detail, y, ref_g, n);
        free_f(y);
        free_f(xi);
    }
    free(xd), free(ref), free(ref_g), free_f(x), free_f(w);
}

static void test_layernorm(int64_t rows, int64_t d, enum kind k) {
    const int64_t n = rows * d;
    float *x = alloc_f(n), *w = alloc_f(d), *b = alloc_f(d);
    fill(x, n, k);
    fill_uniform(w, d, -1.5, 1.5);
    fill_uniform(b, d, -1, 1);
    const float eps = eps_for(k);
    double *xd = to_double(x, n), *ref = alloc_d(n);
    /* all four w / b NULL combinations */
    for (int combo = 0; combo < 4; combo++) {
        const float *wc = combo & 1 ? NULL : w, *bc = combo & 2 ? NULL : b;
        ref_layernorm(xd, wc, bc, ref, rows, d, eps);
        char detail[96];
        snprintf(detail, sizeof detail, "rows=%lld d=%lld %s w%s b%s", (long long)rows,
                 (long long)d, KIND_NAMES[k], wc ? "" : "=NULL", bc ? "" : "=NULL");
        FOR_EACH_VARIANT(v) {
            float *y = alloc_f(n), *xi = dup_f(x, n);
            ffm_layernorm(x, wc, bc, y, rows, d, eps);
            expect_norm("layernorm", v, detail, y, ref, n);
            ffm_layernorm(xi, wc, bc, xi, rows, d, eps);
            expect_norm("layernorm y==x", v, detail, xi, ref, n);
            free_f(y);
            free_f(xi);
        }
    }
    free(xd), free(ref), free_f(x), free_f(w), free_f(b);
}

/* add_rmsnorm and add_layernorm, with r_out separate, aliasing x, and aliasing residual. */
static void test_add_norms(int64_t rows, int64_t d, enum kind k) {
    const int64_t n = rows * d;
    float *x = alloc_f(n), *res = alloc_f(n), *w = alloc_f(d), *b = alloc_f(d), *r = alloc_f(n);
    fill(x, n, k);
    fill(res, n, k == K_ZEROS || k == K_CONSTANT ? k : K_RANDOM);
    fill_uniform(w, d, -1.5, 1.5);
    fill_uniform(b, d, -1, 1);
    const float eps = eps_for(k);
    for (int64_t i = 0; i < n; i++) r[i] = x[i] + res[i]; /* the exact float sum */
    double *rd = to_double(r, n), *ref_rms = alloc_d(n), *ref_ln = alloc_d(n);
    ref_rmsnorm(rd, w, 0, ref_rms, rows, d, eps);
    ref_layernorm(rd, w, b, ref_ln, rows, d, eps);
    char detail[96];
    snprintf(detail, sizeof detail, "rows=%lld d=%lld %s", (long long)rows, (long long)d,
             KIND_NAMES[k]);
    FOR_EACH_VARIANT(v) {
        for (int alias = 0; alias < 3; alias++) { /* 0: separate, 1: r_out==x, 2: r_out==res */
            static const char *const names[][2] = {{"add_rmsnorm", "add_layernorm"},
                                                   {"add_rmsnorm r==x", "add_layernorm r==x"},
                                                   {"add_rmsnorm r==res", "add_layernorm r==res"}};
            for (int ln = 0; ln < 2; ln++) {
                float *xc = dup_f(x, n), *rc = dup_f(res, n), *y = alloc_f(n);
                float *r_out = alias == 0 ? alloc_f(n) : alias == 1 ? xc : rc;
                if (ln)
                    ffm_add_layernorm(xc, rc, w, b, r_out, y, rows, d, eps);
                else
                    ffm_add_rmsnorm(xc, rc, w, r_out, y, rows, d, eps);
                expect_exact(names[alias][ln], v, detail, r_out, r, n);
                expect_norm(names[alias][ln], v, detail, y, ln ? ref_ln : ref_rms, n);
                if (alias == 0) free_f(r_out);
                free_f(xc), free_f(rc), free_f(y);
            }
        }
    }
    free(rd), free(ref_rms), free(ref_ln);
    free_f(x), free_f(res), free_f(w), free_f(b), free_f(r);
}

static void test_deepnorm(int64_t rows, int64_t d, enum kind k) {
    const int64_t n = rows * d;
    const float alpha = 2.5f;
    float *x = alloc_f(n), *f = alloc_f(n), *w = alloc_f(d), *b = alloc_f(d);
    fill(x, n, k);
    fill(f, n, k == K_ZEROS || k == K_CONSTANT ? k : K_RANDOM);
    fill_uniform(w, d, -1.5, 1.5);
    fill_uniform(b, d, -1, 1);
    const float eps = eps_for(k);
    double *t = alloc_d(n), *ref = alloc_d(n);
    for (int64_t i = 0; i < n; i++) t[i] = (double)alpha * x[i] + f[i];
    ref_layernorm(t, w, b, ref, rows, d, eps);
    char detail[96];
    snprintf(detail, sizeof detail, "rows=%lld d=%lld %s", (long long)rows, (long long)d,
             KIND_NAMES[k]);
    /* alpha * x + f is rounded to float in the kernel (the reference keeps it exact), which
     * matters relative to the spread only for the large-offset rows */
    const double rtol = k == K_OFFSET ? 2e-4 : 1e-6;
    FOR_EACH_VARIANT(v) {
        float *y = alloc_f(n), *xc = dup_f(x, n), *fc = dup_f(f, n);
        ffm_deepnorm(x, f, alpha, w, b, y, rows, d, eps);
        expect_close("deepnorm", v, detail, y, ref, n, rtol, rtol * max_abs(ref, n));
        ffm_deepnorm(xc, f, alpha, w, b, xc, rows, d, eps);
        expect_close("deepnorm y==x", v, detail, xc, ref, n, rtol, rtol * max_abs(ref, n));
        ffm_deepnorm(x, fc, alpha, NULL, NULL, fc, rows, d, eps);
        ref_layernorm(t, NULL, NULL, ref, rows, d, eps);
        expect_close("deepnorm y==f", v, detail, fc, ref, n, rtol, rtol * max_abs(ref, n));
        ref_layernorm(t, w, b, ref, rows, d, eps);
        free_f(y), free_f(xc), free_f(fc);
    }
    free(t), free(ref), free_f(x), free_f(f), free_f(w), free_f(b);
}

/* ---- batchnorm -------------------------------------------------------------------------------- */

static void test_batchnorm(int64_t rows, int64_t d, enum kind k) {
    const int64_t n = rows * d;
    const float eps = 1e-5f, momentum = 0.1f;
    float *x = alloc_f(n), *gamma = alloc_f(d), *beta = alloc_f(d);
    float *rm = alloc_f(d), *rv = alloc_f(d);
    fill(x, n, k == K_TINY ? K_RANDOM : k); /* eps is fixed here; tiny is covered above */
    fill_uniform(gamma, d, -1.5, 1.5);
    fill_uniform(beta, d, -1, 1);
    fill_uniform(rm, d, -1, 1);
    fill_uniform(rv, d, 0.5, 2);
    double *ref = alloc_d(n), *ref_rm = alloc_d(d), *ref_rv = alloc_d(d);
    char detail[96];
    snprintf(detail, sizeof detail, "rows=%lld d=%lld %s", (long long)rows, (long long)d,
             KIND_NAMES[k]);

    /* inference, with the running stats as given */
    for (int64_t j = 0; j < d; j++) {
        double s = 1.0 / sqrt((double)rv[j] + eps);
        for (int64_t r = 0; r < rows; r++)
            ref[r * d + j] = ((double)x[r * d + j] - rm[j]) * s * gamma[j] + beta[j];
    }
    FOR_EACH_VARIANT(v) {
        float *y = alloc_f(n), *xi = dup_f(x, n);
        ffm_batchnorm_infer(x, rm, rv, gamma, beta, y, rows, d, eps);
        expect_close("batchnorm_infer", v, detail, y, ref, n, 1e-6, 1e-6);
        ffm_batchnorm_infer(xi, rm, rv, gamma, beta, xi, rows, d, eps);
        expect_close("batchnorm_infer y==x", v, detail, xi, ref, n, 1e-6, 1e-6);
        free_f(y), free_f(xi);
    }

    if (rows >= 2) { /* training needs a batch */
        for (int64_t j = 0; j < d; j++) {
            double m = 0, ss = 0;
            for (int64_t r = 0; r < rows; r++) m += x[r * d + j];
            m /= rows;
            for (int64_t r = 0; r < rows; r++) ss += (x[r * d + j] - m) * (x[r * d + j] - m);
            double s = 1.0 / sqrt(ss / rows + eps);
            for (int64_t r = 0; r < rows; r++) ref[r * d + j] = (x[r * d + j] - m) * s;
            ref_rm[j] = (1 - (double)momentum) * rm[j] + (double)momentum * m;
            ref_rv[j] = (1 - (double)momentum) * rv[j] + (double)momentum * ss / (rows - 1);
        }
        FOR_EACH_VARIANT(v) {
            float *xi = dup_f(x, n), *rmc = dup_f(rm, d), *rvc = dup_f(rv, d);
            ffm_batchnorm_train(xi, NULL, NULL, rmc, rvc, xi, rows, d, eps, momentum);
            expect_norm("batchnorm_train", v, detail, xi, ref, n);
            expect_close("bn_train r_mean", v, detail, rmc, ref_rm, d, 1e-6, 1e-6 * max_abs(ref_rm, d));
            expect_close("bn_train r_var", v, detail, rvc, ref_rv, d, 1e-6, 1e-30);
            free_f(xi), free_f(rmc), free_f(rvc);
        }
        /* once more with gamma / beta */
        for (int64_t i = 0; i < n; i++) ref[i] = ref[i] * gamma[i % d] + beta[i % d];
        FOR_EACH_VARIANT(v) {
            float *y = alloc_f(n), *rmc = dup_f(rm, d), *rvc = dup_f(rv, d);
            ffm_batchnorm_train(x, gamma, beta, rmc, rvc, y, rows, d, eps, momentum);
            expect_norm("batchnorm_train g/b", v, detail, y, ref, n);
            free_f(y), free_f(rmc), free_f(rvc);
        }
    }
    free(ref), free(ref_rm), free(ref_rv);
    free_f(x), free_f(gamma), free_f(beta), free_f(rm), free_f(rv);
}

/* ---- softmax, silu_mul, add, rope ------------------------------------------------------------- */

static void test_softmax(int64_t rows, int64_t d, int variant_of_data) {
    static const char *const names[] = {"unit", "wide", "masked", "constant", "huge"};
    const int64_t n = rows * d;
    float *x = alloc_f(n);
    for (int64_t i = 0; i < n; i++) {
        double u = urand();
        switch (variant_of_data) {
        case 0: x[i] = (float)u; break;
        case 1: x[i] = (float)(40 * u); break; /* outputs spanning e^-80 .. 1 */
        case 2: x[i] = i % 3 == 1 ? -INFINITY : (float)(5 * u); break;
        case 3: x[i] = -7.0f; break;
        default: x[i] = (float)(1e20 * u); break;
        }
    }
    if (variant_of_data == 2) x[0] = 1.0f; /* every row of the masked data keeps one finite */
    for (int64_t r = 0; r < rows && variant_of_data == 2; r++) x[r * d] = 1.0f;
    double *ref = alloc_d(n);
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        double m = -INFINITY, s = 0;
        for (int64_t i = 0; i < d; i++) m = xr[i] > m ? xr[i] : m;
        for (int64_t i = 0; i < d; i++) s += exp((double)xr[i] - m);
        for (int64_t i = 0; i < d; i++) ref[r * d + i] = exp((double)xr[i] - m) / s;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "rows=%lld d=%lld %s", (long long)rows, (long long)d,
             names[variant_of_data]);
    FOR_EACH_VARIANT(v) {
        float *y = alloc_f(n), *xi = dup_f(x, n);
        ffm_softmax(x, y, rows, d);
        expect_close("softmax", v, detail, y, ref, n, 1e-6, 1e-9);
        ffm_softmax(xi, xi, rows, d);
        expect_close("softmax y==x", v, detail, xi, ref, n, 1e-6, 1e-9);
        free_f(y), free_f(xi);
    }
    free(ref), free_f(x);
}

static void test_silu_add(int64_t n) {
    float *g = alloc_f(n), *u = alloc_f(n), *sum = alloc_f(n);
    fill_uniform(g, n, -12, 12);
    fill_uniform(u, n, -3, 3);
    if (n > 4) g[1] = -100.0f, g[2] = 100.0f, g[3] = 0.0f, g[4] = -90.0f; /* exp over/underflow */
    double *ref = alloc_d(n);
    for (int64_t i = 0; i < n; i++) {
        ref[i] = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
        sum[i] = g[i] + u[i];
    }
    char detail[48];
    snprintf(detail, sizeof detail, "n=%lld", (long long)n);
    FOR_EACH_VARIANT(v) {
        float *out = alloc_f(n), *gc = dup_f(g, n), *uc = dup_f(u, n);
        ffm_silu_mul(g, u, out, n);
        expect_close("silu_mul", v, detail, out, ref, n, 1e-6, 1e-30);
        ffm_silu_mul(gc, u, gc, n);
        expect_close("silu_mul out==gate", v, detail, gc, ref, n, 1e-6, 1e-30);
        ffm_silu_mul(g, uc, uc, n);
        expect_close("silu_mul out==up", v, detail, uc, ref, n, 1e-6, 1e-30);
        ffm_add(g, u, out, n);
        expect_exact("add", v, detail, out, sum, n);
        memcpy(gc, g, (size_t)n * sizeof(float));
        memcpy(uc, u, (size_t)n * sizeof(float));
        ffm_add(gc, u, gc, n);
        expect_exact("add out==a", v, detail, gc, sum, n);
        ffm_add(g, uc, uc, n);
        expect_exact("add out==b", v, detail, uc, sum, n);
        free_f(out), free_f(gc), free_f(uc);
    }
    free(ref), free_f(g), free_f(u), free_f(sum);
}

static void test_rope(int64_t rows, int64_t n_heads, int64_t head_size, int64_t pos0,
                      float theta) {
    const int64_t dim = n_heads * head_size, n = rows * dim;
    float *x = alloc_f(n);
    fill_uniform(x, n, -2, 2);
    double *ref = alloc_d(n);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t h = 0; h < n_heads; h++)
            for (int64_t i = 0; i < head_size; i += 2) {
                const int64_t o = r * dim + h * head_size + i;
                double a = (double)(pos0 + r) * pow(theta, -(double)i / head_size);
                ref[o] = x[o] * cos(a) - x[o + 1] * sin(a);
                ref[o + 1] = x[o] * sin(a) + x[o + 1] * cos(a);
            }
    char detail[96];
    snprintf(detail, sizeof detail, "rows=%lld heads=%lld hs=%lld pos0=%lld", (long long)rows,
             (long long)n_heads, (long long)head_size, (long long)pos0);
    FOR_EACH_VARIANT(v) {
        float *xi = dup_f(x, n);
        ffm_rope(xi, rows, n_heads, head_size, pos0, theta);
        expect_close("rope", v, detail, xi, ref, n, 1e-6, 1e-6 * max_abs(ref, n));
        free_f(xi);
    }
    free(ref), free_f(x);
}

/* ---- attention -------------------------------------------------------------------------------- */

/* float64 attention over token-major float caches k / vc ([positions, kv_dim]) into ref. */
static void ref_attention(const float *q, const float *k, const float *vc, double *ref,
                          int64_t rows, int64_t pos0, int64_t n_heads, int64_t n_kv_heads,
                          int64_t head_size) {
    const int64_t dim = n_heads * head_size, kv_dim = n_kv_heads * head_size;
    const int64_t group = n_heads / n_kv_heads;
    double *att = alloc_d(pos0 + rows);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t h = 0; h < n_heads; h++) {
            const int64_t kvh = h / group, np = pos0 + r + 1;
            double m = -INFINITY, s = 0;
            for (int64_t t = 0; t < np; t++) {
                double dot = 0;
                for (int64_t i = 0; i < head_size; i++)
                    dot += (double)q[r * dim + h * head_size + i] * k[t * kv_dim + kvh * head_size + i];
                att[t] = dot / sqrt((double)head_size);
                m = att[t] > m ? att[t] : m;
            }
            for (int64_t t = 0; t < np; t++) s += att[t] = exp(att[t] - m);
            for (int64_t i = 0; i < head_size; i++) {
                double o = 0;
                for (int64_t t = 0; t < np; t++) o += att[t] / s * vc[t * kv_dim + kvh * head_size + i];
                ref[r * dim + h * head_size + i] = o;
            }
        }
    free(att);
}

/*
 * Copies a token-major float cache [positions, kv_dim] into a cache of `capacity` positions in
 * the given order and type (F16: rounded by ffm_quantize_f16). Unused positions hold NaN-like
 * garbage, which the kernel must never read.
 */
static void *layout_cache(const float *src, int64_t positions, int64_t capacity,
                          int64_t n_kv_heads, int64_t head_size, int order, int type) {
    const int64_t kv_dim = n_kv_heads * head_size, n = capacity * kv_dim;
    float *f = alloc_f(n);
    memset(f, 0xff, (size_t)n * sizeof(float));
    for (int64_t t = 0; t < positions; t++)
        for (int64_t h = 0; h < n_kv_heads; h++) {
            const int64_t at = order == FFM_KV_HEAD_MAJOR ? (h * capacity + t) * head_size
                                                          : t * kv_dim + h * head_size;
            memcpy(f + at, src + t * kv_dim + h * head_size, (size_t)head_size * sizeof(float));
        }
    if (type == FFM_KV_F32) return f;
    /* one half past a malloc'd block, ending exactly at its end (ASan sees overruns) */
    uint16_t *block = malloc((size_t)(n + 1) * sizeof(uint16_t));
    ffm_quantize_f16(f, block + 1, n);
    free_f(f);
    return block + 1;
}

static void free_cache(void *cache, int type) {
    if (type == FFM_KV_F32) free_f(cache);
    else free((uint16_t *)cache - 1);
}

/* An attention call's status is 0 and its output matches the reference (1e-5 relative). */
static void expect_attention(const char *what, const char *variant, const char *detail, int status,
                             const float *out, const double *want, int64_t n) {
    if (status != 0) {
        failed++;
        printf("FAIL %s [%s] %s: status %d\n", what, variant, detail, status);
    } else {
        expect_close(what, variant, detail, out, want, n, 1e-5, 1e-5 * max_abs(want, n));
    }
}

static void test_attention(int64_t rows, int64_t pos0, int64_t n_heads, int64_t n_kv_heads,
                           int64_t head_size) {
    const int64_t dim = n_heads * head_size, kv_dim = n_kv_heads * head_size;
    const int64_t positions = pos0 + rows, capacity = positions + 5;
    float *q = alloc_f(rows * dim), *k = alloc_f(positions * kv_dim);
    float *vc = alloc_f(positions * kv_dim);
    fill_uniform(q, rows * dim, -2, 2);
    fill_uniform(k, positions * kv_dim, -2, 2);
    fill_uniform(vc, positions * kv_dim, -3, 3);
    double *ref = alloc_d(rows * dim), *ref16 = alloc_d(rows * dim);
    ref_attention(q, k, vc, ref, rows, pos0, n_heads, n_kv_heads, head_size);
    /* the F16 caches' reference: the same attention over the rounded keys and values */
    float *k16 = alloc_f(positions * kv_dim), *v16 = alloc_f(positions * kv_dim);
    uint16_t *halves = malloc((size_t)positions * kv_dim * sizeof(uint16_t));
    ffm_quantize_f16(k, halves, positions * kv_dim);
    ffm_dequantize_f16(halves, k16, positions * kv_dim);
    ffm_quantize_f16(vc, halves, positions * kv_dim);
    ffm_dequantize_f16(halves, v16, positions * kv_dim);
    free(halves);
    ref_attention(q, k16, v16, ref16, rows, pos0, n_heads, n_kv_heads, head_size);

    char detail[128];
    snprintf(detail, sizeof detail, "rows=%lld pos0=%lld heads=%lld/%lld hs=%lld",
             (long long)rows, (long long)pos0, (long long)n_heads, (long long)n_kv_heads,
             (long long)head_size);
    FOR_EACH_VARIANT(v) {
        float *out = alloc_f(rows * dim), *scratch = alloc_f(n_heads * positions);
        ffm_attention(q, k, vc, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size);
        expect_close("attention", v, detail, out, ref, rows * dim, 1e-5, 1e-5 * max_abs(ref, rows * dim));
        for (int order = FFM_KV_TOKEN_MAJOR; order <= FFM_KV_HEAD_MAJOR; order++)
            for (int type = FFM_KV_F32; type <= FFM_KV_F16; type++) {
                void *kc = layout_cache(k, positions, capacity, n_kv_heads, head_size, order, type);
                void *vcc = layout_cache(vc, positions, capacity, n_kv_heads, head_size, order, type);
                const double *want = type == FFM_KV_F16 ? ref16 : ref;
                char what[32];
                snprintf(what, sizeof what, "attention_kv %s/%s",
                         order == FFM_KV_HEAD_MAJOR ? "head" : "token", type == FFM_KV_F16 ? "f16" : "f32");
                int status = ffm_attention_kv(q, kc, vcc, out, scratch, rows, pos0, n_heads, n_kv_heads,
                                              head_size, capacity, order, type);
                expect_attention(what, v, detail, status, out, want, rows * dim);
                /* the same in two kv-head ranges (as two threads would): the same result */
                const int64_t split = n_kv_heads / 2;
                float *parts = alloc_f(rows * dim);
                status = ffm_attention_kv_heads(q, kc, vcc, parts, scratch, rows, pos0, n_heads, n_kv_heads,
                                                head_size, capacity, order, type, 0, split) |
                         ffm_attention_kv_heads(q, kc, vcc, parts, scratch, rows, pos0, n_heads, n_kv_heads,
                                                head_size, capacity, order, type, split, n_kv_heads);
                snprintf(what, sizeof what, "attention_kv_heads %s/%s",
                         order == FFM_KV_HEAD_MAJOR ? "head" : "token", type == FFM_KV_F16 ? "f16" : "f32");
                expect_attention(what, v, detail, status, parts, want, rows * dim);
                free_f(parts);
                free_cache(kc, type), free_cache(vcc, type);
            }
        /* unknown order / type: refused, nothing written */
        out[0] = 42.0f;
        if (ffm_attention_kv(q, k, vc, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size,
                             capacity, 2, FFM_KV_F32) == -1 &&
            ffm_attention_kv(q, k, vc, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size,
                             capacity, FFM_KV_TOKEN_MAJOR, 7) == -1 &&
            /* kv-head ranges outside [0, n_kv_heads] or reversed: refused */
            ffm_attention_kv_heads(q, k, vc, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size,
                                   capacity, FFM_KV_TOKEN_MAJOR, FFM_KV_F32, -1, 1) == -1 &&
            ffm_attention_kv_heads(q, k, vc, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size,
                                   capacity, FFM_KV_TOKEN_MAJOR, FFM_KV_F32, 0, n_kv_heads + 1) == -1 &&
            ffm_attention_kv_heads(q, k, vc, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size,
                                   capacity, FFM_KV_TOKEN_MAJOR, FFM_KV_F32, 1, 0) == -1 &&
            out[0] == 42.0f)
            passed++;
        else {
            failed++;
            printf("FAIL attention_kv [%s]: an unknown order/type was not refused\n", v);
        }
        free_f(out), free_f(scratch);
    }
    free(ref), free(ref16), free_f(q), free_f(k), free_f(vc), free_f(k16), free_f(v16);
}

/* ---- dispatch --------------------------------------------------------------------------------- */

static void test_dispatch(void) {
    const char *initial = ffm_kernel_variant();
    int known = 0;
    for (int i = 0; i < N_VARIANTS; i++) known |= strcmp(initial, VARIANTS[i]) == 0;
    if (known && ffm_cpu_features() != NULL && ffm_set_kernel_variant("bogus") == -1 &&
        ffm_set_kernel_variant(NULL) == -1 && strcmp(ffm_kernel_variant(), initial) == 0 &&
        ffm_set_kernel_variant("baseline") == 0 && strcmp(ffm_kernel_variant(), "baseline") == 0) {
        passed++;
    } else {
        failed++;
        printf("FAIL dispatch: initial=%s features=%s\n", initial, ffm_cpu_features());
    }
    ffm_noop();
    ffm_set_kernel_variant(initial);
}

int main(void) {
    printf("CPU features: %s; initial variant: %s\n", ffm_cpu_features(), ffm_kernel_variant());
    const char *initial = ffm_kernel_variant();
    for (int i = 0; i < N_VARIANTS; i++) {
        variant_ok[i] = ffm_set_kernel_variant(VARIANTS[i]) == 0;
        printf("variant %-8s %s\n", VARIANTS[i], variant_ok[i] ? "tested" : "not supported here, skipped");
    }
    ffm_set_kernel_variant(initial);
    test_dispatch();

    for (int di = 0; di < N_DIMS; di++)
        for (int ri = 0; ri < N_ROWS; ri++)
            for (int k = 0; k < N_KINDS; k++) {
                test_rmsnorm(ROWS[ri], DIMS[di], (enum kind)k);
                test_layernorm(ROWS[ri], DIMS[di], (enum kind)k);
                test_add_norms(ROWS[ri], DIMS[di], (enum kind)k);
                test_deepnorm(ROWS[ri], DIMS[di], (enum kind)k);
                test_batchnorm(ROWS[ri], DIMS[di], (enum kind)k);
            }
    for (int di = 0; di < N_DIMS; di++) {
        for (int ri = 0; ri < N_ROWS; ri++)
            for (int s = 0; s < 5; s++) test_softmax(ROWS[ri], DIMS[di], s);
        test_silu_add(DIMS[di]);
    }
    test_silu_add(3 * 4096 + 5);
    test_batchnorm(2, 600, K_RANDOM); /* the smallest batch; > one 256-column block */

    test_rope(1, 1, 2, 0, 10000.0f);
    test_rope(3, 4, 16, 7, 10000.0f);
    test_rope(17, 6, 64, 1000, 10000.0f);
    test_rope(2, 2, 128, 5000, 500000.0f);
    test_rope(2, 1, 1030, 3, 10000.0f); /* more pairs than one cos/sin chunk */
    test_rope(5, 3, 6, 0, 100.0f);

    test_attention(1, 0, 4, 4, 16);   /* first token */
    test_attention(1, 9, 4, 4, 16);   /* decode, MHA */
    test_attention(3, 5, 4, 2, 8);    /* GQA prefill continuing a cache */
    test_attention(17, 0, 8, 2, 64);  /* prefill from scratch, group 4 */
    test_attention(1, 40, 6, 3, 7);   /* odd head size */
    test_attention(5, 100, 2, 1, 128);
    test_attention(4, 3, 6, 1, 17);   /* MQA */
    test_attention(2, 7, 2, 2, 150);  /* head size > one f16 conversion chunk, odd tail */

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
