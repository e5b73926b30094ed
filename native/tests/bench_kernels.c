/*
 * bench_kernels.c — quick throughput check of the kernels per SIMD variant (`make bench`).
 *
 * For each size, prints ns per row and GB/s counted as bytes read + written (x and y), next to
 * memcpy of the same buffer (which also reads and writes it once), so "% of memcpy" says how
 * close a kernel is to moving its data at copy speed. Timing: best of several batches.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ffmllama.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { BATCHES = 7 };
static volatile float sink;

/* Best seconds per call of fn(ctx) over BATCHES batches of reps calls each. */
#define BEST_TIME(result, reps, call)                                                         \
    do {                                                                                      \
        double best_ = 1e30;                                                                  \
        for (int b_ = 0; b_ < BATCHES; b_++) {                                                \
            double t0_ = now_s();                                                             \
            for (int r_ = 0; r_ < (reps); r_++) { call; }                                     \
            double t_ = (now_s() - t0_) / (reps);                                             \
            if (t_ < best_) best_ = t_;                                                       \
        }                                                                                     \
        (result) = best_;                                                                     \
    } while (0)

static float *random_buffer(int64_t n) {
    float *p = aligned_alloc(64, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = (float)((i * 7919) % 2001 - 1000) * 1e-3f;
    return p;
}

static void bench_size(int64_t rows, int64_t d) {
    const int64_t n = rows * d;
    const double bytes = 2.0 * (double)n * sizeof(float);
    const int reps = (int)(2e8 / (double)n) + 1;
    float *x = random_buffer(n), *y = random_buffer(n), *w = random_buffer(d),
          *b = random_buffer(d), *g = random_buffer(n);
    /* the machine is shared: take memcpy's best of two rounds as the reference speed */
    double t_copy, t_copy2;
    BEST_TIME(t_copy, reps, memcpy(y, x, (size_t)n * sizeof(float)); sink = y[r_ % n]);
    BEST_TIME(t_copy2, reps, memcpy(y, x, (size_t)n * sizeof(float)); sink = y[r_ % n]);
    if (t_copy2 < t_copy) t_copy = t_copy2;
    printf("rows=%lld d=%lld (%.1f MiB in + out)\n", (long long)rows, (long long)d,
           bytes / (1 << 20));
    printf("  %-22s %9.1f ns/row %7.1f GB/s\n", "memcpy", t_copy * 1e9 / rows, bytes / t_copy * 1e-9);
    static const char *const variants[] = {"baseline", "avx2", "avx512"};
    for (int v = 0; v < 3; v++) {
        if (ffm_set_kernel_variant(variants[v]) != 0) continue;
        struct {
            const char *name;
            double t;
        } r[5];
        BEST_TIME(r[0].t, reps, ffm_rmsnorm(x, w, y, rows, d, 1e-5f));
        r[0].name = "rmsnorm";
        BEST_TIME(r[4].t, reps, ffm_rmsnorm(y, w, y, rows, d, 1e-5f));
        r[4].name = "rmsnorm in place";
        BEST_TIME(r[1].t, reps, ffm_layernorm(x, w, b, y, rows, d, 1e-5f));
        r[1].name = "layernorm";
        BEST_TIME(r[2].t, reps, ffm_softmax(x, y, rows, d));
        r[2].name = "softmax";
        BEST_TIME(r[3].t, reps, ffm_silu_mul(g, x, y, n));
        r[3].name = "silu_mul (3 streams)";
        for (int k = 0; k < 5; k++) {
            char label[48];
            snprintf(label, sizeof label, "%s %s", r[k].name, variants[v]);
            printf("  %-30s %9.1f ns/row %7.1f GB/s  %5.0f%% of memcpy\n", label,
                   r[k].t * 1e9 / rows, bytes / r[k].t * 1e-9, 100.0 * t_copy / r[k].t);
        }
    }
    free(x), free(y), free(w), free(b), free(g);
}

static void bench_attention(void) {
    const int64_t n_heads = 32, n_kv = 8, hs = 128, pos0 = 511;
    const int64_t dim = n_heads * hs, kv = n_kv * hs, positions = pos0 + 1;
    float *q = random_buffer(dim), *k = random_buffer(positions * kv),
          *v = random_buffer(positions * kv), *out = random_buffer(dim),
          *scratch = random_buffer(n_heads * positions);
    printf("attention decode: heads=%lld kv_heads=%lld head_size=%lld pos=%lld\n",
           (long long)n_heads, (long long)n_kv, (long long)hs, (long long)pos0);
    static const char *const variants[] = {"baseline", "avx2", "avx512"};
    for (int vi = 0; vi < 3; vi++) {
        if (ffm_set_kernel_variant(variants[vi]) != 0) continue;
        double t;
        BEST_TIME(t, 200, ffm_attention(q, k, v, out, scratch, 1, pos0, n_heads, n_kv, hs));
        printf("  %-30s %9.1f us/token\n", variants[vi], t * 1e6);
    }
    free(q), free(k), free(v), free(out), free(scratch);
}

int main(void) {
    printf("CPU features: %s; default variant %s\n", ffm_cpu_features(), ffm_kernel_variant());
    bench_size(64, 4096);
    bench_size(64, 16384);
    bench_attention();
    double t;
    BEST_TIME(t, 1000000, ffm_noop());
    printf("ffm_noop (direct C call): %.2f ns\n", t * 1e9);
    return 0;
}
