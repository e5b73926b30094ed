/*
 * simd.h — the row primitives the kernels share: reductions and a vectorizable expf.
 *
 * Reductions are the loops GCC will not vectorize without -ffast-math (it may not reassociate a
 * sum), so they are written once against a tiny ISA layer — a float vector "vf" and a double
 * vector "vd" with load / fma / horizontal sum — implemented with AVX-512, AVX2+FMA or SSE2
 * intrinsics depending on the variant being compiled. Elementwise loops elsewhere are plain C
 * that the auto-vectorizer handles at each variant's width.
 *
 * Every reduction runs several independent accumulators (to hide FMA latency) and finishes the
 * last few elements in scalar code, so any n (including 0) and any alignment work.
 */
#ifndef FFMLLAMA_SIMD_H
#define FFMLLAMA_SIMD_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define FFM_INLINE static inline __attribute__((always_inline))

/* ---- ISA layer -------------------------------------------------------------------------------- */

#if defined(__AVX512F__)

typedef __m512 vf;
typedef __m512d vd;
enum { VF_LANES = 16, VD_LANES = 8 };
FFM_INLINE vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
FFM_INLINE vf vf_set1(float v) { return _mm512_set1_ps(v); }
FFM_INLINE vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
FFM_INLINE vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
FFM_INLINE vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
FFM_INLINE float vf_hsum(vf a) { return _mm512_reduce_add_ps(a); }
FFM_INLINE float vf_hmax(vf a) { return _mm512_reduce_max_ps(a); }
/* VD_LANES floats widened to doubles. */
FFM_INLINE vd vd_load_f(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
FFM_INLINE vd vd_zero(void) { return _mm512_setzero_pd(); }
FFM_INLINE vd vd_set1(double v) { return _mm512_set1_pd(v); }
FFM_INLINE vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
FFM_INLINE vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
FFM_INLINE vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
FFM_INLINE double vd_hsum(vd a) { return _mm512_reduce_add_pd(a); }

#elif defined(__AVX2__) && defined(__FMA__)

typedef __m256 vf;
typedef __m256d vd;
enum { VF_LANES = 8, VD_LANES = 4 };
FFM_INLINE vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
FFM_INLINE vf vf_set1(float v) { return _mm256_set1_ps(v); }
FFM_INLINE vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
FFM_INLINE vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
FFM_INLINE vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
FFM_INLINE float vf_hsum(vf a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
FFM_INLINE float vf_hmax(vf a) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
FFM_INLINE vd vd_load_f(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
FFM_INLINE vd vd_zero(void) { return _mm256_setzero_pd(); }
FFM_INLINE vd vd_set1(double v) { return _mm256_set1_pd(v); }
FFM_INLINE vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
FFM_INLINE vd vd_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
FFM_INLINE vd vd_fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
FFM_INLINE double vd_hsum(vd a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

#else /* baseline x86-64: SSE2, no FMA (multiply then add) */

typedef __m128 vf;
typedef __m128d vd;
enum { VF_LANES = 4, VD_LANES = 2 };
FFM_INLINE vf vf_load(const float *p) { return _mm_loadu_ps(p); }
FFM_INLINE vf vf_set1(float v) { return _mm_set1_ps(v); }
FFM_INLINE vf vf_fma(vf a, vf b, vf c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
FFM_INLINE vf vf_add(vf a, vf b) { return _mm_add_ps(a, b); }
FFM_INLINE vf vf_max(vf a, vf b) { return _mm_max_ps(a, b); }
FFM_INLINE float vf_hsum(vf s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
FFM_INLINE float vf_hmax(vf m) {
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
/* Two floats widened to doubles (unaligned 64-bit load: no read past p[1]). */
FFM_INLINE vd vd_load_f(const float *p) {
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)p)));
}
FFM_INLINE vd vd_zero(void) { return _mm_setzero_pd(); }
FFM_INLINE vd vd_set1(double v) { return _mm_set1_pd(v); }
FFM_INLINE vd vd_add(vd a, vd b) { return _mm_add_pd(a, b); }
FFM_INLINE vd vd_sub(vd a, vd b) { return _mm_sub_pd(a, b); }
FFM_INLINE vd vd_fma(vd a, vd b, vd c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
FFM_INLINE double vd_hsum(vd a) { return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a))); }

#endif

/* ---- reductions ------------------------------------------------------------------------------- */

/* Independent accumulators per reduction: enough to cover FMA latency x throughput. */
enum { FFM_UNROLL = 4 };

/* sum(x[i]) in double. */
FFM_INLINE double ffm_sum_f64(const float *x, int64_t n) {
    vd a0 = vd_zero(), a1 = vd_zero(), a2 = vd_zero(), a3 = vd_zero();
    int64_t i = 0;
    for (; i + FFM_UNROLL * VD_LANES <= n; i += FFM_UNROLL * VD_LANES) {
        a0 = vd_add(a0, vd_load_f(x + i));
        a1 = vd_add(a1, vd_load_f(x + i + VD_LANES));
        a2 = vd_add(a2, vd_load_f(x + i + 2 * VD_LANES));
        a3 = vd_add(a3, vd_load_f(x + i + 3 * VD_LANES));
    }
    for (; i + VD_LANES <= n; i += VD_LANES) a0 = vd_add(a0, vd_load_f(x + i));
    double s = vd_hsum(vd_add(vd_add(a0, a1), vd_add(a2, a3)));
    for (; i < n; i++) s += (double)x[i];
    return s;
}

/* sum(x[i]^2) in double: no overflow for |x| up to float max. */
FFM_INLINE double ffm_sum_sq_f64(const float *x, int64_t n) {
    vd a0 = vd_zero(), a1 = vd_zero(), a2 = vd_zero(), a3 = vd_zero();
    int64_t i = 0;
    for (; i + FFM_UNROLL * VD_LANES <= n; i += FFM_UNROLL * VD_LANES) {
        vd v0 = vd_load_f(x + i), v1 = vd_load_f(x + i + VD_LANES);
        vd v2 = vd_load_f(x + i + 2 * VD_LANES), v3 = vd_load_f(x + i + 3 * VD_LANES);
        a0 = vd_fma(v0, v0, a0);
        a1 = vd_fma(v1, v1, a1);
        a2 = vd_fma(v2, v2, a2);
        a3 = vd_fma(v3, v3, a3);
    }
    for (; i + VD_LANES <= n; i += VD_LANES) {
        vd v = vd_load_f(x + i);
        a0 = vd_fma(v, v, a0);
    }
    double s = vd_hsum(vd_add(vd_add(a0, a1), vd_add(a2, a3)));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

/* sum((x[i] - mean)^2) in double: the second pass of a two-pass variance. */
FFM_INLINE double ffm_sum_sq_dev_f64(const float *x, int64_t n, double mean) {
    const vd m = vd_set1(mean);
    vd a0 = vd_zero(), a1 = vd_zero(), a2 = vd_zero(), a3 = vd_zero();
    int64_t i = 0;
    for (; i + FFM_UNROLL * VD_LANES <= n; i += FFM_UNROLL * VD_LANES) {
        vd v0 = vd_sub(vd_load_f(x + i), m), v1 = vd_sub(vd_load_f(x + i + VD_LANES), m);
        vd v2 = vd_sub(vd_load_f(x + i + 2 * VD_LANES), m);
        vd v3 = vd_sub(vd_load_f(x + i + 3 * VD_LANES), m);
        a0 = vd_fma(v0, v0, a0);
        a1 = vd_fma(v1, v1, a1);
        a2 = vd_fma(v2, v2, a2);
        a3 = vd_fma(v3, v3, a3);
    }
    for (; i + VD_LANES <= n; i += VD_LANES) {
        vd v = vd_sub(vd_load_f(x + i), m);
        a0 = vd_fma(v, v, a0);
    }
    double s = vd_hsum(vd_add(vd_add(a0, a1), vd_add(a2, a3)));
    for (; i < n; i++) {
        double v = (double)x[i] - mean;
        s += v * v;
    }
    return s;
}

/* max(x[i]) for n >= 1. (With NaNs in x the result is unspecified; softmax yields NaN anyway,
 * since exp(NaN - max) poisons the sum.) */
FFM_INLINE float ffm_max_f32(const float *x, int64_t n) {
    float m = x[0];
    int64_t i = 0;
    if (n >= 2 * VF_LANES) {
        vf m0 = vf_load(x), m1 = vf_load(x + VF_LANES);
        for (i = 2 * VF_LANES; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) {
            m0 = vf_max(m0, vf_load(x + i));
            m1 = vf_max(m1, vf_load(x + i + VF_LANES));
        }
        m = vf_hmax(vf_max(m0, m1));
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* dot(a, b) in float (attention scores: head_size terms, float is what llama.cpp does). */
FFM_INLINE float ffm_dot_f32(const float *a, const float *b, int64_t n) {
    vf a0 = vf_set1(0.0f), a1 = vf_set1(0.0f), a2 = vf_set1(0.0f), a3 = vf_set1(0.0f);
    int64_t i = 0;
    for (; i + 4 * VF_LANES <= n; i += 4 * VF_LANES) {
        a0 = vf_fma(vf_load(a + i), vf_load(b + i), a0);
        a1 = vf_fma(vf_load(a + i + VF_LANES), vf_load(b + i + VF_LANES), a1);
        a2 = vf_fma(vf_load(a + i + 2 * VF_LANES), vf_load(b + i + 2 * VF_LANES), a2);
        a3 = vf_fma(vf_load(a + i + 3 * VF_LANES), vf_load(b + i + 3 * VF_LANES), a3);
    }
    for (; i + VF_LANES <= n; i += VF_LANES) a0 = vf_fma(vf_load(a + i), vf_load(b + i), a0);
    float s = vf_hsum(vf_add(vf_add(a0, a1), vf_add(a2, a3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* ---- exp ---------------------------------------------------------------------------------------- */

/*
 * expf for vectorized loops: branch-free and free of library calls, so GCC vectorizes a loop
 * calling it at the variant's width. exp(x) = 2^n * p(r), n = round(x / ln 2),
 * r = x - n ln 2 (Cody-Waite split of ln 2), p = Cephes' degree-7 polynomial (~1-2 ulp).
 * 2^n is applied as two factors 2^(n/2) * 2^(n - n/2), each a normal float, so results that
 * are subnormal (x down to -103.9) or overflow to +inf (x > 88.72) come out right.
 * x is clamped to [-104, 89] first: exp(-inf) = 0, exp(+inf) = +inf; NaN stays NaN.
 */
FFM_INLINE float ffm_expf(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x < -104.0f ? -104.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    /* the integer n sits in t's low mantissa bits */
    uint32_t tb, mb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&mb, &magic, sizeof mb);
    int32_t ni = (int32_t)(tb - mb);
    int32_t n1 = ni >> 1, n2 = ni - n1;
    uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return p * s1 * s2;
}

#endif /* FFMLLAMA_SIMD_H */
