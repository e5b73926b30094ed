/*
 * ffmllama.h — the C API of ffm-llama's native kernels.
 *
 * This header is what jextract sees (scripts/regen-bindings); the Java side in bindings/ is
 * generated from it and never edited by hand.
 *
 * Conventions, for every function here:
 *  - All tensors are float32, row-major and contiguous: a "[rows, d]" argument is rows*d floats,
 *    row r starting at r*d. One call processes many rows (coarse, row-batched API), so the
 *    cost of a downcall is paid once per batch, not once per row.
 *  - Sizes are int64_t. The caller (the Java layer) validates every pointer, size and scalar
 *    BEFORE calling: these functions do no argument checking and never allocate.
 *  - Reductions (sums of x, of x^2, of (x-mean)^2) accumulate in double, so rows whose squares
 *    overflow float32 (|x| ~ 1e20) still normalize correctly (same idea as ggml's rms_norm).
 *  - eps is added inside the square root, as PyTorch and llama.cpp do.
 *  - Output buffers may alias inputs where a function says so; otherwise they must not overlap.
 *  - The implementation is compiled several times (baseline x86-64, AVX2+FMA, AVX-512) and one
 *    variant is chosen at load time from CPUID; see ffm_kernel_variant().
 */
#ifndef FFMLLAMA_H
#define FFMLLAMA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- library / dispatch ------------------------------------------------------------------- */

/* Name of the SIMD variant in use: "avx512", "avx2" or "baseline". */
const char *ffm_kernel_variant(void);

/* Space-separated CPU features the dispatcher detected (e.g. "sse4.2 avx avx2 fma avx512f"). */
const char *ffm_cpu_features(void);

/*
 * Switches to the named variant ("avx512", "avx2", "baseline"). Returns 0 on success, -1 if the
 * name is unknown or the CPU cannot run it (the current variant is kept). The environment
 * variable FFM_LLAMA_KERNEL_VARIANT selects the initial variant the same way.
 */
int ffm_set_kernel_variant(const char *name);

/* Does nothing: used to measure the cost of a downcall. */
void ffm_noop(void);

/* ---- normalization ------------------------------------------------------------------------ */

/* RMSNorm, per row: y = x / sqrt(mean(x^2) + eps) * w.   x,y: [rows, d]; w: [d]. y may alias x. */
void ffm_rmsnorm(const float *x, const float *w, float *y, int64_t rows, int64_t d, float eps);

/* Gemma's RMSNorm, per row: y = x / sqrt(mean(x^2) + eps) * (1 + w). y may alias x. */
void ffm_rmsnorm_gemma(const float *x, const float *w, float *y, int64_t rows, int64_t d,
                       float eps);

/*
 * LayerNorm, per row: y = (x - mean) / sqrt(var + eps) * w + b with the BIASED variance
 * var = mean((x - mean)^2) (divide by d), as torch.nn.LayerNorm.
 * w and b are [d]; either may be NULL (meaning w = 1, b = 0). y may alias x.
 */
void ffm_layernorm(const float *x, const float *w, const float *b, float *y, int64_t rows,
                   int64_t d, float eps);

/*
 * Fused Add & RMSNorm (pre-norm residual step): r = x + residual; y = rmsnorm(r) * w.
 * r_out receives r and may alias x or residual (in-place residual update); y may alias r_out
 * only if the caller does not need r.
 */
void ffm_add_rmsnorm(const float *x, const float *residual, const float *w, float *r_out,
                     float *y, int64_t rows, int64_t d, float eps);

/* Fused Add & LayerNorm: r = x + residual; y = layernorm(r) * w + b. Aliasing as ffm_add_rmsnorm;
 * w and b may be NULL. */
void ffm_add_layernorm(const float *x, const float *residual, const float *w, const float *b,
                       float *r_out, float *y, int64_t rows, int64_t d, float eps);

/*
 * DeepNorm (DeepNet's Post-LN residual): y = layernorm(alpha * x + f) * w + b, where x is the
 * residual stream and f the sublayer output f(x). w, b may be NULL. y may alias x or f.
 */
void ffm_deepnorm(const float *x, const float *f, float alpha, const float *w, const float *b,
                  float *y, int64_t rows, int64_t d, float eps);

/*
 * BatchNorm, inference: per feature j (column), over x: [rows, d]
 *   y[:, j] = (x[:, j] - running_mean[j]) / sqrt(running_var[j] + eps) * gamma[j] + beta[j].
 * gamma/beta may be NULL (1 / 0). y may alias x.
 */
void ffm_batchnorm_infer(const float *x, const float *running_mean, const float *running_var,
                         const float *gamma, const float *beta, float *y, int64_t rows,
                         int64_t d, float eps);

/*
 * BatchNorm, training step (torch.nn.BatchNorm1d in train mode): per feature j, with the batch
 * mean m_j and the biased batch variance v_j over the rows,
 *   y[:, j] = (x[:, j] - m_j) / sqrt(v_j + eps) * gamma[j] + beta[j]
 *   running_mean[j] = (1 - momentum) * running_mean[j] + momentum * m_j
 *   running_var[j]  = (1 - momentum) * running_var[j]  + momentum * v_j * rows / (rows - 1)
 * (running_var stores the UNBIASED variance). rows must be >= 2. gamma/beta may be NULL.
 * y may alias x. running_mean/running_var are updated in place.
 */
void ffm_batchnorm_train(const float *x, const float *gamma, const float *beta,
                         float *running_mean, float *running_var, float *y, int64_t rows,
                         int64_t d, float eps, float momentum);

/* ---- the decoder's other elementwise ops -------------------------------------------------- */

/* Softmax per row, max-subtracted: y = exp(x - max) / sum(exp(x - max)). y may alias x. */
void ffm_softmax(const float *x, float *y, int64_t rows, int64_t d);

/*
 * Rotary position embedding, in place, interleaved pairs (llama2.c / llama.cpp "normal" mode).
 * x: [rows, n_heads * head_size]; row r is the token at position pos0 + r. For each head and
 * each pair i = 0, 2, 4, ... < head_size:
 *   freq = theta^(-i / head_size), a = pos * freq,
 *   (x[i], x[i+1]) = (x[i] cos a - x[i+1] sin a, x[i] sin a + x[i+1] cos a).
 * head_size must be even. Angles are computed in double.
 */
void ffm_rope(float *x, int64_t rows, int64_t n_heads, int64_t head_size, int64_t pos0,
              float theta);

/* SwiGLU gate: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)); n elements.
 * out may alias gate or up. */
void ffm_silu_mul(const float *gate, const float *up, float *out, int64_t n);

/* Residual add: out[i] = a[i] + b[i]; n elements. out may alias a or b. */
void ffm_add(const float *a, const float *b, float *out, int64_t n);

/*
 * Causal grouped-query attention for rows consecutive query tokens at positions
 * pos0 .. pos0 + rows - 1 (decode: rows = 1; batched prefill: rows = prompt length).
 *   q:        [rows, n_heads * head_size]   (already rotated)
 *   k_cache:  [>= pos0 + rows, n_kv_heads * head_size]  keys of positions 0.., token-major
 *   v_cache:  same shape as k_cache
 *   out:      [rows, n_heads * head_size]   must not alias q or the caches
 *   scratch:  [n_heads * (pos0 + rows)] floats of work space (attention scores)
 * Query head h uses kv head h / (n_heads / n_kv_heads). Row r attends to positions
 * 0 .. pos0 + r with scores q.k / sqrt(head_size), softmax (max-subtracted), then sums v.
 */
void ffm_attention(const float *q, const float *k_cache, const float *v_cache, float *out,
                   float *scratch, int64_t rows, int64_t pos0, int64_t n_heads,
                   int64_t n_kv_heads, int64_t head_size);

/* ---- KV-cache layouts (memory-layout experiments) ------------------------------------------ */

/* Order of a layer's KV cache. */
enum ffm_kv_order {
    FFM_KV_TOKEN_MAJOR = 0, /* [capacity][n_kv_heads * head_size]  (llama2.c; ffm_attention) */
    FFM_KV_HEAD_MAJOR = 1   /* [n_kv_heads][capacity][head_size]   (one head's keys contiguous) */
};

/* Element type of a KV cache. */
enum ffm_kv_type {
    FFM_KV_F32 = 0, /* float32 */
    FFM_KV_F16 = 1  /* IEEE binary16 (stored rounded to nearest even), widened exactly on read */
};

/*
 * ffm_attention over a cache in any of the layouts above. capacity is the number of positions
 * the cache was allocated for (>= pos0 + rows): the head-major stride between kv heads is
 * capacity * head_size elements; the token-major layout ignores it. k_cache / v_cache hold
 * capacity * n_kv_heads * head_size elements of the given type (2-byte aligned for F16).
 * Token-major F32 computes exactly what ffm_attention does. F16 caches: every key and value is
 * converted back to float32 (exact) and used as ffm_attention would use it, so the result is the
 * float32 attention over the rounded cache. Returns 0, or -1 (nothing written) for an unknown
 * order or type.
 */
int ffm_attention_kv(const float *q, const void *k_cache, const void *v_cache, float *out,
                     float *scratch, int64_t rows, int64_t pos0, int64_t n_heads,
                     int64_t n_kv_heads, int64_t head_size, int64_t capacity, int32_t order,
                     int32_t type);

/*
 * ffm_attention_kv for the query heads of kv heads [kv_head_begin, kv_head_end) only: writes
 * their columns of out and their rows of scratch, nothing else. Calls on disjoint kv-head ranges
 * with the same arguments may run concurrently (that is how a session splits attention over its
 * threads); together they compute exactly what one ffm_attention_kv call computes. Returns 0, or
 * -1 (nothing written) for an unknown order or type or a range outside [0, n_kv_heads].
 */
int ffm_attention_kv_heads(const float *q, const void *k_cache, const void *v_cache, float *out,
                           float *scratch, int64_t rows, int64_t pos0, int64_t n_heads,
                           int64_t n_kv_heads, int64_t head_size, int64_t capacity,
                           int32_t order, int32_t type, int64_t kv_head_begin,
                           int64_t kv_head_end);

#ifdef __cplusplus
}
#endif

#endif /* FFMLLAMA_H */
