/*
 * quant.c — linear layers on F16, BF16, Q8_0 and Q4_0 weights with float32 activations
 * (ffmllama_quant.h). Compiled once per SIMD variant (see variant.h).
 *
 * The code is written once with GCC vector extensions: a block of 32 weights is dequantized into
 * two 16-float vectors (v16f) and the compiler maps those to one zmm (AVX-512), two ymm (AVX2) or
 * four xmm (baseline) per vector. Dequantization is exact (d * q needs at most 19 significant
 * bits), so every variant computes the float32 matmul over the exactly dequantized weights; only
 * the float32 summation order differs between variants.
 *
 * Two loops per type:
 *  - one x row (decode): fused dequantize-and-dot, several weight rows at a time so each x load
 *    serves all of them; the weights stream from memory once, which is what bounds decoding;
 *  - several x rows (prefill): a panel of PANEL weight rows is dequantized into a float buffer, a
 *    chunk of KC values at a time, and that buffer is multiplied with every x row in tiles of
 *    TILE_ROWS x PANEL dot products; each weight is read and dequantized once per call.
 */
#include <stddef.h>
#include <string.h>

#include "half.h"
#include "variant.h"

#define FFM_INLINE static inline __attribute__((always_inline))

/* v16f values cross only always_inline helpers, never a real call: no ABI is involved. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v16f __attribute__((vector_size(64)));
typedef int8_t v16i8 __attribute__((vector_size(16)));
typedef uint8_t v16u8 __attribute__((vector_size(16)));

/* Register budget of the variant: AVX-512 has 32 zmm, AVX2 16 ymm, SSE2 16 xmm. */
#if defined(__AVX512F__)
enum { DECODE_ROWS = 4, TILE_ROWS = 4, VL = 16 };
#elif defined(__AVX2__)
enum { DECODE_ROWS = 2, TILE_ROWS = 2, VL = 8 };
#else
enum { DECODE_ROWS = 2, TILE_ROWS = 2, VL = 4 };
#endif
typedef float vfl __attribute__((vector_size(VL * 4))); /* one native register of floats */

enum { QK = 32, PANEL = 4, KC = 512 };

/* How far ahead (bytes, at least) the decode matvec prefetches weights; see matvec_<type>. */
#ifndef PREFETCH_MIN_BYTES
#define PREFETCH_MIN_BYTES 8192
#endif

FFM_INLINE v16f load16(const float *p) {
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

FFM_INLINE vfl loadl(const float *p) {
    vfl v;
    memcpy(&v, p, sizeof v);
    return v;
}

FFM_INLINE float hsum16(v16f v) {
    float s = 0.0f;
    /* pairwise halving keeps it a few vector adds on every variant */
    typedef float v8f __attribute__((vector_size(32)));
    typedef float v4f __attribute__((vector_size(16)));
    v8f a, b;
    memcpy(&a, &v, sizeof a);
    memcpy(&b, (const char *)&v + sizeof a, sizeof b);
    a += b;
    v4f c, d;
    memcpy(&c, &a, sizeof c);
    memcpy(&d, (const char *)&a + sizeof c, sizeof d);
    c += d;
    s = (c[0] + c[2]) + (c[1] + c[3]);
    return s;
}

FFM_INLINE float hsuml(vfl v) {
    float s = 0.0f;
    for (int i = 0; i < VL; i++) s += v[i];
    return s;
}

/* ---- widening conversions, written per ISA: GCC 12 scalarizes __builtin_convertvector of
 * int8 / uint16 vectors, which made the first version of this loop 10x slower --------------------- */

FFM_INLINE v16f join8(__m128 a0, __m128 a1, __m128 a2, __m128 a3) {
    v16f v;
    memcpy(&v, &a0, 16);
    memcpy((char *)&v + 16, &a1, 16);
    memcpy((char *)&v + 32, &a2, 16);
    memcpy((char *)&v + 48, &a3, 16);
    return v;
}

/* 16 signed bytes -> 16 floats */
FFM_INLINE v16f i8x16_to_f(__m128i q) {
#if defined(__AVX512F__)
    return (v16f)_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
#elif defined(__AVX2__)
    __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_unpackhi_epi64(q, q)));
    v16f v;
    memcpy(&v, &a, 32);
    memcpy((char *)&v + 32, &b, 32);
    return v;
#else
    /* sign-extend by placing each byte in the top of a wider lane, then arithmetic shifts */
    const __m128i w_lo = _mm_srai_epi16(_mm_unpacklo_epi8(q, q), 8);
    const __m128i w_hi = _mm_srai_epi16(_mm_unpackhi_epi8(q, q), 8);
    return join8(_mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(w_lo, w_lo), 16)),
                 _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(w_lo, w_lo), 16)),
                 _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(w_hi, w_hi), 16)),
                 _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(w_hi, w_hi), 16)));
#endif
}

/* 16 bfloat16 at p -> 16 floats (each becomes the upper half of a float) */
FFM_INLINE v16f bf16x16(const uint8_t *p) {
#if defined(__AVX512F__)
    const __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)p);
    return (v16f)_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
#else
    const __m128i zero = _mm_setzero_si128();
    const __m128i h0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i h1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    return join8(_mm_castsi128_ps(_mm_unpacklo_epi16(zero, h0)),
                 _mm_castsi128_ps(_mm_unpackhi_epi16(zero, h0)),
                 _mm_castsi128_ps(_mm_unpacklo_epi16(zero, h1)),
                 _mm_castsi128_ps(_mm_unpackhi_epi16(zero, h1)));
#endif
}

/* ---- one block of 32 weights -> two v16f (exact) ----------------------------------------------- */

/* The 32 values of a block as floats, unscaled, and the block's scale as the result (value = raw *
 * scale, exactly). The decode loops scale each block's partial dot once instead of every weight. */
FFM_INLINE float raw_block_q8_0(const uint8_t *b, v16f *lo, v16f *hi) {
    *lo = i8x16_to_f(_mm_loadu_si128((const __m128i *)(const void *)(b + 2)));
    *hi = i8x16_to_f(_mm_loadu_si128((const __m128i *)(const void *)(b + 18)));
    return ffm_half_to_float(ffm_load_u16(b));
}

FFM_INLINE float raw_block_q4_0(const uint8_t *b, v16f *lo, v16f *hi) {
#if defined(__AVX512F__)
    /* vpermps reads only the low 4 bits of each index, so widened bytes index a table of the 16
     * nibble values (-8..7) directly: no mask, no subtraction, no int -> float conversion. */
    const __m512 values = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(b + 2)));
    *lo = (v16f)_mm512_permutexvar_ps(bytes, values);                         /* elements 0..15 */
    *hi = (v16f)_mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), values);   /* elements 16..31 */
#else
    v16u8 qs;
    memcpy(&qs, b + 2, 16);
    const v16i8 q0 = (v16i8)(qs & 0x0f) - 8; /* elements 0..15 */
    const v16i8 q1 = (v16i8)(qs >> 4) - 8;   /* elements 16..31 */
    *lo = i8x16_to_f((__m128i)q0);
    *hi = i8x16_to_f((__m128i)q1);
#endif
    return ffm_half_to_float(ffm_load_u16(b));
}

FFM_INLINE v16f half16(const uint8_t *p) {
#if defined(__AVX512F__)
    return (v16f)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
#elif defined(__F16C__)
    typedef float v8f __attribute__((vector_size(32)));
    v8f a = (v8f)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
    v8f b = (v8f)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
    v16f v;
    memcpy(&v, &a, sizeof a);
    memcpy((char *)&v + sizeof a, &b, sizeof b);
    return v;
#else
    v16f v;
    for (int i = 0; i < 16; i++) v[i] = ffm_half_to_float(ffm_load_u16(p + 2 * i));
    return v;
#endif
}

/* The float types have no block scale: 1 (the multiplications by 1.0f fold away). */
FFM_INLINE float raw_block_f16(const uint8_t *b, v16f *lo, v16f *hi) {
    *lo = half16(b);
    *hi = half16(b + 32);
    return 1.0f;
}
FFM_INLINE float raw_block_bf16(const uint8_t *b, v16f *lo, v16f *hi) {
    *lo = bf16x16(b);
    *hi = bf16x16(b + 32);
    return 1.0f;
}

/* Single values, for the tails of F16 / BF16 rows whose length is not a multiple of 32
 * (never called for Q8_0 / Q4_0, whose rows are whole blocks). */
FFM_INLINE float deq_one_f16(const uint8_t *row, int64_t j) {
    return ffm_half_to_float(ffm_load_u16(row + 2 * j));
}
FFM_INLINE float deq_one_bf16(const uint8_t *row, int64_t j) {
    return ffm_bf16_to_float(ffm_load_u16(row + 2 * j));
}
FFM_INLINE float deq_one_none(const uint8_t *row, int64_t j) {
    (void)row;
    (void)j;
    return 0.0f;
}

/*
 * The kernels of one type. BLOCK_BYTES: bytes of 32 values. RAW_BLOCK: 32 values -> 2 x v16f,
 * unscaled, returning the scale. DEQ_ONE: one value of a tail (in % 32 != 0; only F16 / BF16).
 * Generates matmul_cols_<NAME>(w, x, y, rows, in, out, o0, o1).
 */
#define DEFINE_TYPED_MATMUL(NAME, BLOCK_BYTES, RAW_BLOCK, DEQ_ONE)                                \
    /* Dequantizes values [k0, k0 + kc) of one weight row into dst (k0 a multiple of 32). */      \
    FFM_INLINE void dequant_chunk_##NAME(const uint8_t *row, int64_t k0, int64_t kc, float *dst) { \
        int64_t k = 0;                                                                           \
        for (; k + QK <= kc; k += QK) {                                                          \
            v16f lo, hi;                                                                         \
            const float d = RAW_BLOCK(row + (k0 + k) / QK * (BLOCK_BYTES), &lo, &hi);            \
            lo *= d;                                                                             \
            hi *= d;                                                                             \
            memcpy(dst + k, &lo, sizeof lo);                                                     \
            memcpy(dst + k + 16, &hi, sizeof hi);                                                \
        }                                                                                        \
        for (; k < kc; k++) dst[k] = DEQ_ONE(row, k0 + k);                                       \
    }                                                                                            \
                                                                                                 \
    /* y[o] = W[o] . x for o in [o0, o1): one x row, weights streamed once. */                    \
    static void matvec_##NAME(const uint8_t *w, size_t row_bytes, const float *x, float *y,      \
                              int64_t in, int64_t o0, int64_t o1) {                              \
        const int64_t nb = in / QK;                                                              \
        int64_t o = o0;                                                                          \
        /* The rows of a group are read as DECODE_ROWS interleaved short streams, which the     \
         * hardware prefetchers follow poorly: without help this loop read DRAM at a third of    \
         * the F16 kernel's rate. So while one group is computed, a later group is prefetched    \
         * linearly, GROUP_STEP bytes per block (the group's bytes spread over its blocks).      \
         * Prefetches never fault, so running past the end of the matrix is harmless. */          \
        enum { GROUP_STEP_##NAME = DECODE_ROWS * (BLOCK_BYTES) };                                 \
        const size_t group_bytes = DECODE_ROWS * row_bytes;                                      \
        const size_t ahead = group_bytes ? group_bytes * (PREFETCH_MIN_BYTES / group_bytes + 1) : 0; \
        for (; o + DECODE_ROWS <= o1; o += DECODE_ROWS) {                                        \
            const uint8_t *wr = w + (size_t)o * row_bytes;                                       \
            /* an address, not a pointer: it may lie past the matrix (no pointer arithmetic UB) */ \
            const uintptr_t pf = (uintptr_t)wr + ahead;                                          \
            v16f acc[DECODE_ROWS];                                                            \
            for (int p = 0; p < DECODE_ROWS; p++) acc[p] = (v16f){0};                         \
            for (int64_t b = 0; b < nb; b++) {                                                   \
                for (int off = 0; off < GROUP_STEP_##NAME; off += 64)                             \
                    __builtin_prefetch((const void *)(pf + (uintptr_t)(b * GROUP_STEP_##NAME + off)), 0, 3); \
                const v16f x_lo = load16(x + b * QK), x_hi = load16(x + b * QK + 16);            \
                for (int p = 0; p < DECODE_ROWS; p++) {                                          \
                    v16f lo, hi;                                                                 \
                    const float d = RAW_BLOCK(wr + p * row_bytes + b * (BLOCK_BYTES), &lo, &hi); \
                    acc[p] += (lo * x_lo + hi * x_hi) * d;                                    \
                }                                                                                \
            }                                                                                    \
            for (int p = 0; p < DECODE_ROWS; p++) {                                              \
                float s = hsum16(acc[p]);                                                     \
                for (int64_t k = nb * QK; k < in; k++)                                           \
                    s += DEQ_ONE(wr + p * row_bytes, k) * x[k];                                  \
                y[o + p] = s;                                                                    \
            }                                                                                    \
        }                                                                                        \
        for (; o < o1; o++) {                                                                    \
            const uint8_t *wr = w + (size_t)o * row_bytes;                                       \
            v16f acc = {0};                                                                      \
            for (int64_t b = 0; b < nb; b++) {                                                   \
                v16f lo, hi;                                                                     \
                const float d = RAW_BLOCK(wr + b * (BLOCK_BYTES), &lo, &hi);                     \
                acc += (lo * load16(x + b * QK) + hi * load16(x + b * QK + 16)) * d;             \
            }                                                                                    \
            float s = hsum16(acc);                                                               \
            for (int64_t k = nb * QK; k < in; k++) s += DEQ_ONE(wr, k) * x[k];                   \
            y[o] = s;                                                                            \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    /* Several x rows: dequantized panels of PANEL weight rows, tiles of TILE_ROWS x PANEL. */    \
    static void matmat_##NAME(const uint8_t *w, size_t row_bytes, const float *x, float *y,      \
                              int64_t rows, int64_t in, int64_t out, int64_t o0, int64_t o1) {   \
        float panel[PANEL][KC] __attribute__((aligned(64)));                                     \
        for (int64_t o = o0; o < o1; o += PANEL) {                                               \
            const int64_t np = o1 - o < PANEL ? o1 - o : PANEL;                                  \
            for (int64_t k0 = 0; k0 < in; k0 += KC) {                                            \
                const int64_t kc = in - k0 < KC ? in - k0 : KC;                                  \
                for (int p = 0; p < PANEL; p++) {                                                \
                    if (p < np)                                                                  \
                        dequant_chunk_##NAME(w + (size_t)(o + p) * row_bytes, k0, kc, panel[p]); \
                    else /* missing rows at the edge: zeros, results dropped */                   \
                        memset(panel[p], 0, (size_t)kc * sizeof(float));                         \
                }                                                                                \
                const int64_t kv = kc / VL * VL;                                                 \
                for (int64_t r = 0; r < rows; r += TILE_ROWS) {                                  \
                    const float *xr[TILE_ROWS];                                                  \
                    for (int t = 0; t < TILE_ROWS; t++)                                          \
                        xr[t] = x + (r + t < rows ? r + t : r) * in + k0;                        \
                    vfl acc[TILE_ROWS][PANEL];                                                   \
                    for (int t = 0; t < TILE_ROWS; t++)                                          \
                        for (int p = 0; p < PANEL; p++) acc[t][p] = (vfl){0};                    \
                    for (int64_t k = 0; k < kv; k += VL) {                                       \
                        vfl wv[PANEL];                                                           \
                        for (int p = 0; p < PANEL; p++) wv[p] = loadl(panel[p] + k);             \
                        for (int t = 0; t < TILE_ROWS; t++) {                                    \
                            const vfl xv = loadl(xr[t] + k);                                     \
                            for (int p = 0; p < PANEL; p++) acc[t][p] += wv[p] * xv;             \
                        }                                                                        \
                    }                                                                            \
                    for (int t = 0; t < TILE_ROWS && r + t < rows; t++) {                        \
                        for (int p = 0; p < np; p++) {                                           \
                            float s = hsuml(acc[t][p]);                                          \
                            for (int64_t k = kv; k < kc; k++) s += panel[p][k] * xr[t][k];       \
                            float *yo = y + (r + t) * out + o + p;                               \
                            *yo = k0 == 0 ? s : *yo + s;                                         \
                        }                                                                        \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    static void matmul_cols_##NAME(const void *w, const float *x, float *y, int64_t rows,       \
                                   int64_t in, int64_t out, int64_t o0, int64_t o1,              \
                                   size_t row_bytes) {                                           \
        if (rows == 1)                                                                           \
            matvec_##NAME((const uint8_t *)w, row_bytes, x, y, in, o0, o1);                      \
        else                                                                                     \
            matmat_##NAME((const uint8_t *)w, row_bytes, x, y, rows, in, out, o0, o1);           \
    }

DEFINE_TYPED_MATMUL(q8_0, 34, raw_block_q8_0, deq_one_none)
DEFINE_TYPED_MATMUL(q4_0, 18, raw_block_q4_0, deq_one_none)
DEFINE_TYPED_MATMUL(f16, 64, raw_block_f16, deq_one_f16)
DEFINE_TYPED_MATMUL(bf16, 64, raw_block_bf16, deq_one_bf16)

void FFM_VARIANT(matmul_q8_0)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                              int64_t out, int64_t col_begin, int64_t col_end) {
    matmul_cols_q8_0(w, x, y, rows, in, out, col_begin, col_end, (size_t)(in / QK) * 34);
}

void FFM_VARIANT(matmul_q4_0)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                              int64_t out, int64_t col_begin, int64_t col_end) {
    matmul_cols_q4_0(w, x, y, rows, in, out, col_begin, col_end, (size_t)(in / QK) * 18);
}

void FFM_VARIANT(matmul_f16)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                             int64_t out, int64_t col_begin, int64_t col_end) {
    matmul_cols_f16(w, x, y, rows, in, out, col_begin, col_end, (size_t)in * 2);
}

void FFM_VARIANT(matmul_bf16)(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                              int64_t out, int64_t col_begin, int64_t col_end) {
    matmul_cols_bf16(w, x, y, rows, in, out, col_begin, col_end, (size_t)in * 2);
}
