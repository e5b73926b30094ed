/*
 * quant_q8act.c — linear layers on Q8_0 / Q4_0 weights with Q8_0-quantized activations, the scheme
 * llama.cpp uses on CPU (ffm_matmul_q8act_cols in ffmllama_quant.h). Compiled once per SIMD
 * variant (see variant.h).
 *
 * Each output is sum_b d_w[b] * d_x[b] * (sum_j q_w[b][j] * q_x[b][j]): the inner sum is exact in
 * int32 (|sum| <= 32 * 128 * 127), only the per-block float scaling and the float sum over blocks
 * round. The int8 x int8 dot of one block (32 pairs) is computed
 *  - AVX-512 with VNNI: vpdpbusd on 256-bit vectors, which multiplies unsigned by signed bytes, so
 *    the weight is made unsigned and its sign moved onto x: |q_w| * (sign(q_w) * q_x), the same
 *    product (vpsignb; |-128| = 128 is still right read as unsigned, and Q8_0 weights never hold
 *    -128 anyway since ggml's quantizer rounds into [-127, 127]);
 *  - AVX2 and AVX-512 without VNNI: the same trick with vpmaddubsw (pairs into int16; 2 * 128 * 127
 *    fits, no saturation) then vpmaddwd by ones into int32;
 *  - baseline: plain int32 loops (GCC vectorizes them with SSE2 pmaddwd).
 * The VNNI kernel is compiled with a target attribute inside the avx512 variant and chosen once
 * when the library loads, so an AVX-512 CPU without VNNI still runs the avx512 variant.
 *
 * A Q4_0 weight block is first expanded to 32 signed bytes (nibble - 8, in [-8, 7]) and then goes
 * through the same dot.
 */
#include <stddef.h>
#include <string.h>

#include "../include/ffmllama_quant.h"
#include "half.h"
#include "variant.h"

#define FFM_INLINE static inline __attribute__((always_inline))

enum { QK = 32, Q8_BYTES = 34, Q4_BYTES = 18, ROWS_AT_ONCE = 4 };

/* How far ahead (bytes, at least) the kernels prefetch weights; see matvec_<type> in quant.c. */
#define PREFETCH_MIN_BYTES 8192

#if defined(__AVX2__)

/* The 32 signed weights of one block. */
FFM_INLINE __m256i load_w_q8_0(const uint8_t *b) {
    return _mm256_loadu_si256((const __m256i *)(const void *)(b + 2));
}
FFM_INLINE __m256i load_w_q4_0(const uint8_t *b) {
    const __m128i qs = _mm_loadu_si128((const __m128i *)(const void *)(b + 2));
    const __m128i lo = _mm_and_si128(qs, _mm_set1_epi8(0x0f));                    /* 0..15  */
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(qs, 4), _mm_set1_epi8(0x0f)); /* 16..31 */
    return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

/* 8 int32 partial sums of the 32 products w[j] * x[j] (maddubs + madd). */
FFM_INLINE __m256i dot_i8_maddubs(__m256i w, __m256i x) {
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* acc + d_w * d_x * (w . x) for one block: wb the weight block, xv / dx the x block's bytes and scale. */
#define Q8ACT_BLOCK_FMA(acc, LOAD_W, DOT, wb, xv, dx)                                              \
    _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(LOAD_W(wb), xv)),                                    \
                    _mm256_set1_ps(ffm_half_to_float(ffm_load_u16(wb)) * (dx)), acc)

/*
 * The kernel for one weight type and one dot: y[r, o] for every r and o in [o0, o1).
 * ROWS_AT_ONCE weight rows at a time, so each x block load serves all of them; the weight rows
 * of a group (a few KB) stay in L1 while every x row passes over them.
 */
#define DEFINE_Q8ACT_KERNEL(NAME, ATTR, W_BYTES, LOAD_W, DOT)                                     \
    ATTR static void NAME(const uint8_t *w, const uint8_t *xq, float *y, int64_t rows,          \
                          int64_t in, int64_t out, int64_t o0, int64_t o1) {                     \
        const int64_t nb = in / QK;                                                              \
        const size_t w_row = (size_t)nb * (W_BYTES), x_row = (size_t)nb * Q8_BYTES;              \
        const size_t group_bytes = ROWS_AT_ONCE * w_row;                                         \
        const size_t ahead = group_bytes ? group_bytes * (PREFETCH_MIN_BYTES / group_bytes + 1) : 0; \
        for (int64_t o = o0; o < o1; o += ROWS_AT_ONCE) {                                        \
            const int np = o1 - o < ROWS_AT_ONCE ? (int)(o1 - o) : ROWS_AT_ONCE;                 \
            for (int64_t r = 0; r < rows; r++) {                                                 \
                const uint8_t *xr = xq + (size_t)r * x_row;                                      \
                __m256 acc[ROWS_AT_ONCE];                                                        \
                for (int p = 0; p < ROWS_AT_ONCE; p++) acc[p] = _mm256_setzero_ps();             \
                if (np == ROWS_AT_ONCE) {                                                        \
                    /* prefetch a later group linearly, as matvec_<type> in quant.c explains */  \
                    const uintptr_t pf = (uintptr_t)(w + (size_t)o * w_row) + ahead; /* may pass the end */ \
                    for (int64_t b = 0; b < nb; b++) {                                           \
                        for (int off = 0; off < ROWS_AT_ONCE * (W_BYTES); off += 64)             \
                            __builtin_prefetch((const void *)(pf + (uintptr_t)(b * ROWS_AT_ONCE * (W_BYTES) + off)), 0, 3); \
                        const uint8_t *xb = xr + b * Q8_BYTES;                                   \
                        const __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2)); \
                        const float dx = ffm_half_to_float(ffm_load_u16(xb));                    \
                        for (int p = 0; p < ROWS_AT_ONCE; p++)                                   \
                            acc[p] = Q8ACT_BLOCK_FMA(acc[p], LOAD_W, DOT,                        \
                                                     w + (size_t)(o + p) * w_row + b * (W_BYTES), xv, dx); \
                    }                                                                            \
                } else {                                                                         \
                    for (int p = 0; p < np; p++) {                                               \
                        for (int64_t b = 0; b < nb; b++) {                                       \
                            const uint8_t *xb = xr + b * Q8_BYTES;                               \
                            const __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2)); \
                            const float dx = ffm_half_to_float(ffm_load_u16(xb));                \
                            acc[p] = Q8ACT_BLOCK_FMA(acc[p], LOAD_W, DOT,                        \
                                                     w + (size_t)(o + p) * w_row + b * (W_BYTES), xv, dx); \
                        }                                                                        \
                    }                                                                            \
                }                                                                                \
                for (int p = 0; p < np; p++) {                                                   \
                    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[p]),                        \
                                          _mm256_extractf128_ps(acc[p], 1));                     \
                    h = _mm_add_ps(h, _mm_movehl_ps(h, h));                                      \
                    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));                                  \
                    y[r * out + o + p] = _mm_cvtss_f32(h);                                       \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }

#define NO_ATTR
DEFINE_Q8ACT_KERNEL(q8act_q8_0_maddubs, NO_ATTR, Q8_BYTES, load_w_q8_0, dot_i8_maddubs)
DEFINE_Q8ACT_KERNEL(q8act_q4_0_maddubs, NO_ATTR, Q4_BYTES, load_w_q4_0, dot_i8_maddubs)

#if defined(__AVX512F__)
#define VNNI_ATTR __attribute__((target("avx512vnni,avx512vl")))
/* 8 int32 partial sums of the 32 products w[j] * x[j] (one vpdpbusd). */
static inline __attribute__((always_inline)) VNNI_ATTR __m256i dot_i8_vnni(__m256i w, __m256i x) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w),
                               _mm256_sign_epi8(x, w));
}
DEFINE_Q8ACT_KERNEL(q8act_q8_0_vnni, VNNI_ATTR, Q8_BYTES, load_w_q8_0, dot_i8_vnni)
DEFINE_Q8ACT_KERNEL(q8act_q4_0_vnni, VNNI_ATTR, Q4_BYTES, load_w_q4_0, dot_i8_vnni)

typedef void (*q8act_kernel)(const uint8_t *w, const uint8_t *xq, float *y, int64_t rows,
                             int64_t in, int64_t out, int64_t o0, int64_t o1);
/* Chosen once at load time; maddubs until then (runs on any AVX-512BW CPU). */
static q8act_kernel kernel_q8_0 = q8act_q8_0_maddubs, kernel_q4_0 = q8act_q4_0_maddubs;

__attribute__((constructor)) static void choose_vnni(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) {
        kernel_q8_0 = q8act_q8_0_vnni;
        kernel_q4_0 = q8act_q4_0_vnni;
    }
}
#define KERNEL_Q8_0 kernel_q8_0
#define KERNEL_Q4_0 kernel_q4_0
#else
#define KERNEL_Q8_0 q8act_q8_0_maddubs
#define KERNEL_Q4_0 q8act_q4_0_maddubs
#endif

#else /* baseline: scalar int32 dots */

FFM_INLINE void expand_w_q8_0(const uint8_t *b, int8_t q[QK]) { memcpy(q, b + 2, QK); }
FFM_INLINE void expand_w_q4_0(const uint8_t *b, int8_t q[QK]) {
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)((b[2 + j] & 0x0f) - 8);
        q[16 + j] = (int8_t)((b[2 + j] >> 4) - 8);
    }
}

#define DEFINE_Q8ACT_KERNEL(NAME, W_BYTES, EXPAND_W)                                             \
    static void NAME(const uint8_t *w, const uint8_t *xq, float *y, int64_t rows, int64_t in,   \
                     int64_t out, int64_t o0, int64_t o1) {                                      \
        const int64_t nb = in / QK;                                                              \
        const size_t w_row = (size_t)nb * (W_BYTES), x_row = (size_t)nb * Q8_BYTES;              \
        for (int64_t o = o0; o < o1; o++) {                                                      \
            const uint8_t *wr = w + (size_t)o * w_row;                                           \
            for (int64_t r = 0; r < rows; r++) {                                                 \
                const uint8_t *xr = xq + (size_t)r * x_row;                                      \
                float s = 0.0f;                                                                  \
                for (int64_t b = 0; b < nb; b++) {                                               \
                    int8_t qw[QK], qx[QK];                                                       \
                    EXPAND_W(wr + b * (W_BYTES), qw);                                            \
                    memcpy(qx, xr + b * Q8_BYTES + 2, QK);                                       \
                    int32_t dot = 0;                                                             \
                    for (int j = 0; j < QK; j++) dot += (int32_t)qw[j] * qx[j];                  \
                    s += (float)dot * (ffm_half_to_float(ffm_load_u16(wr + b * (W_BYTES))) *     \
                                       ffm_half_to_float(ffm_load_u16(xr + b * Q8_BYTES)));      \
                }                                                                                \
                y[r * out + o] = s;                                                              \
            }                                                                                    \
        }                                                                                        \
    }

DEFINE_Q8ACT_KERNEL(q8act_q8_0_scalar, Q8_BYTES, expand_w_q8_0)
DEFINE_Q8ACT_KERNEL(q8act_q4_0_scalar, Q4_BYTES, expand_w_q4_0)
#define KERNEL_Q8_0 q8act_q8_0_scalar
#define KERNEL_Q4_0 q8act_q4_0_scalar
#endif

/*
 * x -> Q8_0 blocks as llama.cpp's CPU code quantizes activations (ggml-cpu quantize_row_q8_0, the
 * AVX path): amax of the block, d = amax / 127 stored as fp16 (round to nearest even),
 * q = round-to-nearest-even(x * (127 / amax)), 0 for an all-zero block.
 */
void FFM_VARIANT(quantize_rows_q8_0)(const float *x, void *xq, int64_t n) {
    uint8_t *dst = (uint8_t *)xq;
    for (int64_t b = 0; b < n / QK; b++, x += QK, dst += Q8_BYTES) {
#if defined(__AVX2__)
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const uint16_t dh = _cvtss_sh(amax / 127.0f, 0);
        memcpy(dst, &dh, 2);
        const __m256 mul = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        const int rn = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), rn));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), rn));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), rn));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), rn));
        /* packs work per 128-bit lane: the permute puts the 8 groups of 4 back in order */
        i0 = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        i0 = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(void *)(dst + 2), i0);
#else
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float a = x[j] < 0 ? -x[j] : x[j];
            amax = a > amax ? a : amax;
        }
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        ffm_quantize_f16(&d, dst, 1);
        for (int j = 0; j < QK; j++) dst[2 + j] = (uint8_t)(int8_t)__builtin_rintf(x[j] * id);
#endif
    }
}

void FFM_VARIANT(matmul_q8act_q8_0)(const void *w, const void *xq, float *y, int64_t rows,
                                    int64_t in, int64_t out, int64_t col_begin, int64_t col_end) {
    KERNEL_Q8_0((const uint8_t *)w, (const uint8_t *)xq, y, rows, in, out, col_begin, col_end);
}

void FFM_VARIANT(matmul_q8act_q4_0)(const void *w, const void *xq, float *y, int64_t rows,
                                    int64_t in, int64_t out, int64_t col_begin, int64_t col_end) {
    KERNEL_Q4_0((const uint8_t *)w, (const uint8_t *)xq, y, rows, in, out, col_begin, col_end);
}
