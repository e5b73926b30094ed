/*
 * variant.h — how one kernel source becomes three SIMD variants.
 *
 * Every kernel source (norm.c, batchnorm.c, elementwise.c, attention.c, table.c) is compiled once
 * per variant with -DFFM_VARIANT_SUFFIX=<baseline|avx2|avx512> and that variant's -m flags.
 * FFM_VARIANT(rmsnorm) then names ffm_rmsnorm_avx512 (etc.), so the three copies link into one
 * library side by side. Those symbols have hidden visibility (the Makefile compiles kernel sources
 * with -fvisibility=hidden): only dispatch.c's public ffm_* functions are exported.
 */
#ifndef FFMLLAMA_VARIANT_H
#define FFMLLAMA_VARIANT_H

#include <stdint.h>

#define FFM_CONCAT_(a, b, c) a##b##_##c
#define FFM_CONCAT(a, b, c) FFM_CONCAT_(a, b, c)

#ifdef FFM_VARIANT_SUFFIX
#define FFM_VARIANT(name) FFM_CONCAT(ffm_, name, FFM_VARIANT_SUFFIX)
#endif

/* A linear layer on typed weights, outputs [col_begin, col_end) only (see ffmllama_quant.h). */
typedef void (*ffm_typed_matmul_fn)(const void *w, const float *x, float *y, int64_t rows,
                                    int64_t in, int64_t out, int64_t col_begin, int64_t col_end);

/* Typed weights times Q8_0-quantized activations, outputs [col_begin, col_end) (quant_q8act.c). */
typedef void (*ffm_q8act_matmul_fn)(const void *w, const void *xq, float *y, int64_t rows,
                                    int64_t in, int64_t out, int64_t col_begin, int64_t col_end);

/*
 * The kernels of one variant, as function pointers. table.c fills one per variant
 * (ffm_kernels_<suffix>); dispatch.c points the public API at one of them.
 * The signatures are exactly those of the public functions in ffmllama.h.
 */
typedef struct ffm_kernel_table {
    const char *name;
    void (*rmsnorm)(const float *x, const float *w, float *y, int64_t rows, int64_t d, float eps);
    void (*rmsnorm_gemma)(const float *x, const float *w, float *y, int64_t rows, int64_t d,
                          float eps);
    void (*layernorm)(const float *x, const float *w, const float *b, float *y, int64_t rows,
                      int64_t d, float eps);
    void (*add_rmsnorm)(const float *x, const float *residual, const float *w, float *r_out,
                        float *y, int64_t rows, int64_t d, float eps);
    void (*add_layernorm)(const float *x, const float *residual, const float *w, const float *b,
                          float *r_out, float *y, int64_t rows, int64_t d, float eps);
    void (*deepnorm)(const float *x, const float *f, float alpha, const float *w, const float *b,
                     float *y, int64_t rows, int64_t d, float eps);
    void (*batchnorm_infer)(const float *x, const float *running_mean, const float *running_var,
                            const float *gamma, const float *beta, float *y, int64_t rows,
                            int64_t d, float eps);
    void (*batchnorm_train)(const float *x, const float *gamma, const float *beta,
                            float *running_mean, float *running_var, float *y, int64_t rows,
                            int64_t d, float eps, float momentum);
    void (*softmax)(const float *x, float *y, int64_t rows, int64_t d);
    void (*rope)(float *x, int64_t rows, int64_t n_heads, int64_t head_size, int64_t pos0,
                 float theta);
    void (*silu_mul)(const float *gate, const float *up, float *out, int64_t n);
    void (*add)(const float *a, const float *b, float *out, int64_t n);
    void (*attention)(const float *q, const float *k_cache, const float *v_cache, float *out,
                      float *scratch, int64_t rows, int64_t pos0, int64_t n_heads,
                      int64_t n_kv_heads, int64_t head_size);
    int (*attention_kv)(const float *q, const void *k_cache, const void *v_cache, float *out,
                        float *scratch, int64_t rows, int64_t pos0, int64_t n_heads,
                        int64_t n_kv_heads, int64_t head_size, int64_t capacity, int32_t order,
                        int32_t type, int64_t kv_head_begin, int64_t kv_head_end);
    /* ffmllama_quant.h: y[:, col_begin..col_end) of x . W^T for one weight type (quant.c) */
    ffm_typed_matmul_fn matmul_q8_0, matmul_q4_0, matmul_f16, matmul_bf16;
    /* ffmllama_quant.h: the same with Q8_0-quantized x (quant_q8act.c) */
    ffm_q8act_matmul_fn matmul_q8act_q8_0, matmul_q8act_q4_0;
    void (*quantize_rows_q8_0)(const float *x, void *xq, int64_t n);
} ffm_kernel_table;

extern const ffm_kernel_table ffm_kernels_baseline;
extern const ffm_kernel_table ffm_kernels_avx2;
extern const ffm_kernel_table ffm_kernels_avx512;

#ifdef FFM_VARIANT_SUFFIX
/* This variant's kernels (defined in the family sources, collected into a table by table.c).
 * Same signatures as the public ffm_* functions of ffmllama.h. */
void FFM_VARIANT(rmsnorm)(const float *x, const float *w, float *y, int64_t rows, int64_t d,
                          float eps);
void FFM_VARIANT(rmsnorm_gemma)(const float *x, const float *w, float *y, int64_t rows,
                                int64_t d, float eps);
void FFM_VARIANT(layernorm)(const float *x, const float *w, const float *b, float *y,
                            int64_t rows, int64_t d, float eps);
void FFM_VARIANT(add_rmsnorm)(const float *x, const float *residual, const float *w,
                              float *r_out, float *y, int64_t rows, int64_t d, float eps);
void FFM_VARIANT(add_layernorm)(const float *x, const float *residual, const float *w,
                                const float *b, float *r_out, float *y, int64_t rows, int64_t d,
                                float eps);
void FFM_VARIANT(deepnorm)(const float *x, const float *f, float alpha, const float *w,
                           const float *b, float *y, int64_t rows, int64_t d, float eps);
void FFM_VARIANT(batchnorm_infer)(const float *x, const float *running_mean,
                                  const float *running_var, const float *gamma,
                                  const float *beta, float *y, int64_t rows, int64_t d,
                                  float eps);
void FFM_VARIANT(batchnorm_train)(const float *x, const float *gamma, const float *beta,
                                  float *running_mean, float *running_var, float *y,
                                  int64_t rows, int64_t d, float eps, float momentum);
void FFM_VARIANT(softmax)(const float *x, float *y, int64_t rows, int64_t d);
void FFM_VARIANT(rope)(float *x, int64_t rows, int64_t n_heads, int64_t head_size, int64_t pos0,
                       float theta);
void FFM_VARIANT(silu_mul)(const float *gate, const float *up, float *out, int64_t n);
void FFM_VARIANT(add)(const float *a, const float *b, float *out, int64_t n);
void FFM_VARIANT(attention)(const float *q, const float *k_cache, const float *v_cache,
                            float *out, float *scratch, int64_t rows, int64_t pos0,
                            int64_t n_heads, int64_t n_kv_heads, int64_t head_size);
int FFM_VARIANT(attention_kv)(const float *q, const void *k_cache, const void *v_cache,
                              float *out, float *scratch, int64_t rows, int64_t pos0,
                              int64_t n_heads, int64_t n_kv_heads, int64_t head_size,
                              int64_t capacity, int32_t order, int32_t type,
                              int64_t kv_head_begin, int64_t kv_head_end);
void FFM_VARIANT(matmul_q8_0)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                              int64_t out, int64_t col_begin, int64_t col_end);
void FFM_VARIANT(matmul_q4_0)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                              int64_t out, int64_t col_begin, int64_t col_end);
void FFM_VARIANT(matmul_f16)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                             int64_t out, int64_t col_begin, int64_t col_end);
void FFM_VARIANT(matmul_bf16)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                              int64_t out, int64_t col_begin, int64_t col_end);
void FFM_VARIANT(matmul_q8act_q8_0)(const void *w, const void *xq, float *y, int64_t rows,
                                    int64_t in, int64_t out, int64_t col_begin, int64_t col_end);
void FFM_VARIANT(matmul_q8act_q4_0)(const void *w, const void *xq, float *y, int64_t rows,
                                    int64_t in, int64_t out, int64_t col_begin, int64_t col_end);
void FFM_VARIANT(quantize_rows_q8_0)(const float *x, void *xq, int64_t n);
#endif

#endif /* FFMLLAMA_VARIANT_H */
