/*
 * dispatch.c — the exported ffm_* API: forwards each call to the kernel table of the SIMD
 * variant chosen at load time.
 *
 * Selection: a constructor runs when the library is loaded, reads the CPU features
 * (__builtin_cpu_supports, which also checks that the OS saves the AVX / AVX-512 register state)
 * and picks the best variant the CPU can run: avx512 > avx2 > baseline. The environment variable
 * FFM_LLAMA_KERNEL_VARIANT, then ffm_set_kernel_variant(), can select another variant, never one
 * the CPU cannot execute. The current table is one atomic pointer, so a switch is safe while
 * other threads run kernels (each call uses one variant throughout).
 *
 * This file is compiled once, for baseline x86-64, so it runs on any CPU: the variant objects are
 * the only code built with -mavx2 / -mavx512*, and they are only reached through the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/ffmllama.h"
#include "../include/ffmllama_quant.h"
#include "variant.h"

#define FFM_API __attribute__((visibility("default")))

static int cpu_runs_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
}

static int cpu_runs_avx512(void) {
    return cpu_runs_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}

/* Every variant, best first, with whether this CPU can run it. */
static const struct {
    const ffm_kernel_table *table;
    int (*cpu_runs)(void);
} variants[] = {
    {&ffm_kernels_avx512, cpu_runs_avx512},
    {&ffm_kernels_avx2, cpu_runs_avx2},
    {&ffm_kernels_baseline, NULL},
};
enum { N_VARIANTS = sizeof variants / sizeof variants[0] };

/* Initialized to baseline so a call that could precede the constructor still works. */
static const ffm_kernel_table *current = &ffm_kernels_baseline;
static char cpu_features[256];

static const ffm_kernel_table *kernels(void) {
    return __atomic_load_n(&current, __ATOMIC_ACQUIRE);
}

/* The named variant if this CPU runs it, else NULL. */
static const ffm_kernel_table *runnable_variant(const char *name) {
    for (int i = 0; i < N_VARIANTS; i++) {
        if (strcmp(variants[i].table->name, name) == 0)
            return variants[i].cpu_runs == NULL || variants[i].cpu_runs() ? variants[i].table
                                                                           : NULL;
    }
    return NULL;
}

static void describe_cpu_features(void) {
    /* __builtin_cpu_supports takes only string literals, hence the macro */
#define FEATURE(name) {name, __builtin_cpu_supports(name)}
    const struct {
        const char *name;
        int supported;
    } features[] = {FEATURE("sse4.2"),  FEATURE("avx"),      FEATURE("avx2"),
                    FEATURE("fma"),     FEATURE("f16c"),     FEATURE("avx512f"),
                    FEATURE("avx512bw"), FEATURE("avx512dq"), FEATURE("avx512vl")};
#undef FEATURE
    size_t len = 0;
    cpu_features[0] = '\0';
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        if (features[i].supported)
            len += (size_t)snprintf(cpu_features + len, sizeof cpu_features - len, "%s%s",
                                    len ? " " : "", features[i].name);
    }
}

__attribute__((constructor)) static void select_initial_variant(void) {
    __builtin_cpu_init();
    describe_cpu_features();
    const ffm_kernel_table *chosen = &ffm_kernels_baseline;
    for (int i = 0; i < N_VARIANTS; i++) {
        if (variants[i].cpu_runs == NULL || variants[i].cpu_runs()) {
            chosen = variants[i].table;
            break;
        }
    }
    const char *requested = getenv("FFM_LLAMA_KERNEL_VARIANT");
    if (requested != NULL && requested[0] != '\0') {
        const ffm_kernel_table *t = runnable_variant(requested);
        if (t != NULL)
            chosen = t;
        else
            fprintf(stderr,
                    "ffmllama: FFM_LLAMA_KERNEL_VARIANT=%s is unknown or not supported by this "
                    "CPU (features: %s); using %s\n",
                    requested, cpu_features, chosen->name);
    }
    __atomic_store_n(&current, chosen, __ATOMIC_RELEASE);
}

FFM_API const char *ffm_kernel_variant(void) { return kernels()->name; }

FFM_API const char *ffm_cpu_features(void) { return cpu_features; }

FFM_API int ffm_set_kernel_variant(const char *name) {
    const ffm_kernel_table *t = name ? runnable_variant(name) : NULL;
    if (t == NULL) return -1;
    __atomic_store_n(&current, t, __ATOMIC_RELEASE);
    return 0;
}

FFM_API void ffm_noop(void) {}

FFM_API void ffm_rmsnorm(const float *x, const float *w, float *y, int64_t rows, int64_t d,
                         float eps) {
    kernels()->rmsnorm(x, w, y, rows, d, eps);
}

FFM_API void ffm_rmsnorm_gemma(const float *x, const float *w, float *y, int64_t rows,
                               int64_t d, float eps) {
    kernels()->rmsnorm_gemma(x, w, y, rows, d, eps);
}

FFM_API void ffm_layernorm(const float *x, const float *w, const float *b, float *y,
                           int64_t rows, int64_t d, float eps) {
    kernels()->layernorm(x, w, b, y, rows, d, eps);
}

FFM_API void ffm_add_rmsnorm(const float *x, const float *residual, const float *w,
                             float *r_out, float *y, int64_t rows, int64_t d, float eps) {
    kernels()->add_rmsnorm(x, residual, w, r_out, y, rows, d, eps);
}

FFM_API void ffm_add_layernorm(const float *x, const float *residual, const float *w,
                               const float *b, float *r_out, float *y, int64_t rows, int64_t d,
                               float eps) {
    kernels()->add_layernorm(x, residual, w, b, r_out, y, rows, d, eps);
}

FFM_API void ffm_deepnorm(const float *x, const float *f, float alpha, const float *w,
                          const float *b, float *y, int64_t rows, int64_t d, float eps) {
    kernels()->deepnorm(x, f, alpha, w, b, y, rows, d, eps);
}

FFM_API void ffm_batchnorm_infer(const float *x, const float *running_mean,
                                 const float *running_var, const float *gamma,
                                 const float *beta, float *y, int64_t rows, int64_t d,
                                 float eps) {
    kernels()->batchnorm_infer(x, running_mean, running_var, gamma, beta, y, rows, d, eps);
}

FFM_API void ffm_batchnorm_train(const float *x, const float *gamma, const float *beta,
                                 float *running_mean, float *running_var, float *y,
                                 int64_t rows, int64_t d, float eps, float momentum) {
    kernels()->batchnorm_train(x, gamma, beta, running_mean, running_var, y, rows, d, eps,
                               momentum);
}

FFM_API void ffm_softmax(const float *x, float *y, int64_t rows, int64_t d) {
    kernels()->softmax(x, y, rows, d);
}

FFM_API void ffm_rope(float *x, int64_t rows, int64_t n_heads, int64_t head_size, int64_t pos0,
                      float theta) {
    kernels()->rope(x, rows, n_heads, head_size, pos0, theta);
}

FFM_API void ffm_silu_mul(const float *gate, const float *up, float *out, int64_t n) {
    kernels()->silu_mul(gate, up, out, n);
}

FFM_API void ffm_add(const float *a, const float *b, float *out, int64_t n) {
    kernels()->add(a, b, out, n);
}

FFM_API void ffm_attention(const float *q, const float *k_cache, const float *v_cache,
                           float *out, float *scratch, int64_t rows, int64_t pos0,
                           int64_t n_heads, int64_t n_kv_heads, int64_t head_size) {
    kernels()->attention(q, k_cache, v_cache, out, scratch, rows, pos0, n_heads, n_kv_heads,
                         head_size);
}

FFM_API int ffm_attention_kv(const float *q, const void *k_cache, const void *v_cache, float *out,
                             float *scratch, int64_t rows, int64_t pos0, int64_t n_heads,
                             int64_t n_kv_heads, int64_t head_size, int64_t capacity,
                             int32_t order, int32_t type) {
    return kernels()->attention_kv(q, k_cache, v_cache, out, scratch, rows, pos0, n_heads,
                                   n_kv_heads, head_size, capacity, order, type, 0, n_kv_heads);
}

FFM_API int ffm_attention_kv_heads(const float *q, const void *k_cache, const void *v_cache,
                                   float *out, float *scratch, int64_t rows, int64_t pos0,
                                   int64_t n_heads, int64_t n_kv_heads, int64_t head_size,
                                   int64_t capacity, int32_t order, int32_t type,
                                   int64_t kv_head_begin, int64_t kv_head_end) {
    if (kv_head_begin < 0 || kv_head_begin > kv_head_end || kv_head_end > n_kv_heads) return -1;
    return kernels()->attention_kv(q, k_cache, v_cache, out, scratch, rows, pos0, n_heads,
                                   n_kv_heads, head_size, capacity, order, type, kv_head_begin,
                                   kv_head_end);
}

/* ---- ffmllama_quant.h: typed-weight linear layers ------------------------------------------- */

FFM_API void ffm_matmul_q8_0(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                             int64_t out) {
    kernels()->matmul_q8_0(w, x, y, rows, in, out, 0, out);
}

FFM_API void ffm_matmul_q4_0(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                             int64_t out) {
    kernels()->matmul_q4_0(w, x, y, rows, in, out, 0, out);
}

FFM_API void ffm_matmul_f16(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                            int64_t out) {
    kernels()->matmul_f16(w, x, y, rows, in, out, 0, out);
}

FFM_API void ffm_matmul_bf16(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                             int64_t out) {
    kernels()->matmul_bf16(w, x, y, rows, in, out, 0, out);
}

FFM_API int ffm_matmul_typed_cols(int32_t type, const void *w, const float *x, float *y,
                                  int64_t rows, int64_t in, int64_t out, int64_t col_begin,
                                  int64_t col_end) {
    const ffm_kernel_table *k = kernels();
    ffm_typed_matmul_fn fn;
    switch (type) {
    case FFM_WEIGHT_Q8_0: fn = k->matmul_q8_0; break;
    case FFM_WEIGHT_Q4_0: fn = k->matmul_q4_0; break;
    case FFM_WEIGHT_F16: fn = k->matmul_f16; break;
    case FFM_WEIGHT_BF16: fn = k->matmul_bf16; break;
    default: return -1;
    }
    fn(w, x, y, rows, in, out, col_begin, col_end);
    return 0;
}

FFM_API int ffm_matmul_q8act_cols(int32_t type, const void *w, const void *xq, float *y,
                                  int64_t rows, int64_t in, int64_t out, int64_t col_begin,
                                  int64_t col_end) {
    const ffm_kernel_table *k = kernels();
    ffm_q8act_matmul_fn fn;
    switch (type) {
    case FFM_WEIGHT_Q8_0: fn = k->matmul_q8act_q8_0; break;
    case FFM_WEIGHT_Q4_0: fn = k->matmul_q8act_q4_0; break;
    default: return -1;
    }
    fn(w, xq, y, rows, in, out, col_begin, col_end);
    return 0;
}

FFM_API void ffm_quantize_rows_q8_0(const float *x, void *xq, int64_t n) {
    kernels()->quantize_rows_q8_0(x, xq, n);
}
