/*
 * test_quant.c — checks ffmllama_quant.h: the quantizers against ggml's exact formats (and F16C
 * for fp16 rounding), and every typed matmul, in every SIMD variant this CPU runs, against a
 * float64 reference over the dequantized weights.
 *
 * Buffers are unaligned (weights start one byte, floats one float past a malloc'd block) and end
 * exactly at the end of their block, so ASan sees any overrun. Sizes cover one and many x rows
 * (odd counts, more than a tile), weight-row counts around the panel sizes, rows longer than one
 * dequantization chunk, and F16 / BF16 rows whose length is not a multiple of 32.
 *
 * Plain C, no framework: prints "N passed, M failed" and exits non-zero on any failure.
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffmllama.h"
#include "ffmllama_quant.h"

static const char *const VARIANTS[] = {"baseline", "avx2", "avx512"};
enum { N_VARIANTS = 3 };

static int passed, failed;

static void check(int ok, const char *fmt, const char *a, const char *b, long long i, double got,
                  double want) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    if (failed <= 20) {
        printf("FAIL ");
        printf(fmt, a, b, i, got, want);
        printf("\n");
    }
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t next_u64(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
/* uniform in [-1, 1) */
static double urand(void) { return (double)(next_u64() >> 11) / 4503599627370496.0 - 1.0; }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        perror("malloc");
        exit(2);
    }
    return p;
}
/* n floats one float past the block start (unaligned), ending at the block's end */
static float *alloc_f(int64_t n) { return (float *)xmalloc((size_t)(n + 1) * sizeof(float)) + 1; }
static void free_f(float *p) { free(p - 1); }
/* n bytes one byte past the block start */
static uint8_t *alloc_b(size_t n) { return (uint8_t *)xmalloc(n + 1) + 1; }
static void free_b(uint8_t *p) { free(p - 1); }

/* ---- the types ------------------------------------------------------------------------------- */

struct wtype {
    const char *name;
    int32_t id;
    int block;       /* values per block */
    int block_bytes; /* bytes per block */
    void (*quantize)(const float *, void *, int64_t);
    void (*dequantize)(const void *, float *, int64_t);
    void (*matmul)(const void *, const float *, float *, int64_t, int64_t, int64_t);
};
static const struct wtype TYPES[] = {
    {"q8_0", FFM_WEIGHT_Q8_0, 32, 34, ffm_quantize_q8_0, ffm_dequantize_q8_0, ffm_matmul_q8_0},
    {"q4_0", FFM_WEIGHT_Q4_0, 32, 18, ffm_quantize_q4_0, ffm_dequantize_q4_0, ffm_matmul_q4_0},
    {"f16", FFM_WEIGHT_F16, 1, 2, ffm_quantize_f16, ffm_dequantize_f16, ffm_matmul_f16},
    {"bf16", FFM_WEIGHT_BF16, 1, 2, ffm_quantize_bf16, ffm_dequantize_bf16, ffm_matmul_bf16},
};
enum { N_TYPES = sizeof TYPES / sizeof TYPES[0] };

static size_t weight_bytes(const struct wtype *t, int64_t out, int64_t in) {
    return (size_t)(out * (in / t->block) * t->block_bytes);
}

/* ---- quantizer formats --------------------------------------------------------------------- */

static uint16_t u16_at(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

__attribute__((target("f16c"))) static uint16_t f16c_round(float f) { return _cvtss_sh(f, 0); }

static void test_f16_rounding(void) {
    /* fixed cases: normal, max, overflow, halfway to inf, subnormals and their ties */
    const struct {
        float f;
        uint16_t h;
    } cases[] = {{1.0f, 0x3c00},       {-2.0f, 0xc000},         {65504.0f, 0x7bff},
                 {65519.0f, 0x7bff},   {65520.0f, 0x7c00},      {1e10f, 0x7c00},
                 {0x1p-24f, 0x0001},   {0x1p-25f, 0x0000},      {0x1.8p-25f, 0x0001},
                 {0x1.8p-24f, 0x0002}, {0x1p-14f, 0x0400},      {0x1.ffcp-15f, 0x0400},
                 {-0.0f, 0x8000},      {1.0f + 0x1p-11f, 0x3c00}, {1.0f + 0x3p-11f, 0x3c02}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t h[2];
        ffm_quantize_f16(&cases[i].f, h, 1);
        check(u16_at(h) == cases[i].h, "f16 round%s%s case %lld: got 0x%04.0f want 0x%04.0f", "",
              "", (long long)i, u16_at(h), cases[i].h);
    }
    /* random bit patterns (no NaN) against the hardware conversion, where the CPU has it */
    if (!__builtin_cpu_supports("f16c")) return;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)next_u64();
        if ((bits & 0x7f800000u) == 0x7f800000u) continue;
        if (i % 2) bits = (bits & 0x87ffffffu) | 0x30000000u; /* bias towards the half range */
        float f;
        memcpy(&f, &bits, 4);
        uint8_t h[2];
        ffm_quantize_f16(&f, h, 1);
        if (u16_at(h) != f16c_round(f)) bad++;
    }
    check(bad == 0, "f16 vs F16C%s%s: %lld mismatches (%g, %g)", "", "", bad, 0, 0);
}

static void test_bf16_rounding(void) {
    const struct {
        uint32_t f;
        uint16_t h;
    } cases[] = {{0x3f800000u, 0x3f80}, {0x3f808000u, 0x3f80}, {0x3f818000u, 0x3f82},
                 {0x3f808001u, 0x3f81}, {0xbf800000u, 0xbf80}, {0x7f7fffffu, 0x7f80}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f;
        memcpy(&f, &cases[i].f, 4);
        uint8_t h[2];
        ffm_quantize_bf16(&f, h, 1);
        check(u16_at(h) == cases[i].h, "bf16 round%s%s case %lld: got 0x%04.0f want 0x%04.0f", "",
              "", (long long)i, u16_at(h), cases[i].h);
    }
}

/* The block layouts, written out: Q8_0 x = d*q, Q4_0 low nibbles first then high, x = d*(q-8). */
static void test_block_layouts(void) {
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) * 0.25f; /* amax 4 at j = 0 */
    uint8_t q8[34], q4[18];
    ffm_quantize_q8_0(x, q8, 32);
    const float d8 = 4.0f / 127;
    check(!__builtin_cpu_supports("f16c") || u16_at(q8) == f16c_round(d8),
          "q8_0 scale%s%s %lld: 0x%04.0f vs 0x%04.0f", "", "", 0, u16_at(q8), 0);
    for (int j = 0; j < 32; j++)
        check((int8_t)q8[2 + j] == (int8_t)roundf(x[j] * (1.0f / d8)) ||
                  fabsf((float)(int8_t)q8[2 + j] - x[j] / d8) < 0.5001f,
              "q8_0 quant %s%s j=%lld: %g vs %g", "", "", j, (int8_t)q8[2 + j], x[j] / d8);
    check((int8_t)q8[2] == -127, "q8_0 extreme%s%s %lld: %g want %g", "", "", 0,
          (int8_t)q8[2], -127);

    ffm_quantize_q4_0(x, q4, 32);
    /* max = -4 (x[0]): d = -4 / -8 = 0.5, q = x / 0.5 + 8 */
    for (int j = 0; j < 16; j++) {
        const int lo = q4[2 + j] & 0xf, hi = q4[2 + j] >> 4;
        int want_lo = (int)(x[j] / 0.5f + 8.5f), want_hi = (int)(x[16 + j] / 0.5f + 8.5f);
        if (want_hi > 15) want_hi = 15;
        check(lo == want_lo, "q4_0 low nibble%s%s j=%lld: %g want %g", "", "", j, lo, want_lo);
        check(hi == want_hi, "q4_0 high nibble%s%s j=%lld: %g want %g", "", "", j, hi, want_hi);
    }
    float back[32];
    ffm_dequantize_q4_0(q4, back, 32);
    for (int j = 0; j < 32; j++) {
        const int q = j < 16 ? (q4[2 + j] & 0xf) : (q4[2 + j - 16] >> 4);
        check(back[j] == 0.5f * (float)(q - 8), "q4_0 dequant%s%s j=%lld: %g want %g", "", "",
              j, back[j], 0.5f * (float)(q - 8));
    }
    /* an all-zero block quantizes to d = 0 and dequantizes to zeros */
    float zeros[32] = {0};
    ffm_quantize_q8_0(zeros, q8, 32);
    ffm_dequantize_q8_0(q8, back, 32);
    int nonzero = 0;
    for (int j = 0; j < 32; j++) nonzero += back[j] != 0.0f;
    check(nonzero == 0, "q8_0 zero block%s%s: %lld nonzero (%g %g)", "", "", nonzero, 0, 0);
}

/* quantize -> dequantize error within half a step; dequantize -> quantize reproduces the bytes */
static void test_round_trips(void) {
    enum { N = 32 * 40 };
    float *x = alloc_f(N), *back = alloc_f(N), *back2 = alloc_f(N);
    for (int i = 0; i < N; i++) x[i] = (float)(urand() * (1 + i % 7) * (i % 5 == 0 ? 100 : 1));
    for (int t = 0; t < N_TYPES; t++) {
        const struct wtype *ty = &TYPES[t];
        size_t nb = weight_bytes(ty, 1, N);
        uint8_t *q = alloc_b(nb), *q2 = alloc_b(nb);
        ty->quantize(x, q, N);
        ty->dequantize(q, back, N);
        double worst = 0;
        for (int b = 0; b < N / 32; b++) {
            double amax = 0;
            for (int j = 0; j < 32; j++) amax = fmax(amax, fabs(x[b * 32 + j]));
            for (int j = 0; j < 32; j++) {
                const int i = b * 32 + j;
                double step = ty->id == FFM_WEIGHT_Q8_0   ? amax / 127
                              : ty->id == FFM_WEIGHT_Q4_0 ? amax / 8
                              : ty->id == FFM_WEIGHT_F16  ? fabs(x[i]) * 0x1p-10
                                                          : fabs(x[i]) * 0x1p-7;
                double err = fabs((double)back[i] - x[i]) / (0.5 * step * 1.002 + 1e-30);
                worst = fmax(worst, err);
            }
        }
        /* allowed: half a step; Q8_0 also the fp16 rounding of d times |q| <= 127 (2^-11 * 127
         * relative); Q4_0 also a whole step where the clamp to 15 meets the value opposite max */
        const double allowed = ty->id == FFM_WEIGHT_Q8_0 ? 1.13 : ty->id == FFM_WEIGHT_Q4_0 ? 2.01 : 1.0;
        check(worst <= allowed, "%s round trip%s: error %lld... %g half-steps (max %g)", ty->name,
              "", 0, worst, allowed);
        ty->quantize(back, q2, N);
        ty->dequantize(q2, back2, N);
        check(memcmp(back, back2, N * sizeof(float)) == 0,
              "%s requantize%s: dequantized values changed (%lld %g %g)", ty->name, "", 0, 0, 0);
        free_b(q);
        free_b(q2);
    }
    free_f(x);
    free_f(back);
    free_f(back2);
}

/* ---- typed matmuls ------------------------------------------------------------------------- */

/* ref = x . W^T in float64 (W [out, in] row-major) and scale = sum |w x| per output (error scale). */
static void ref_matmul(const float *w, const float *x, int64_t rows, int64_t in, int64_t out,
                       double *ref, double *scale) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < out; o++) {
            double s = 0, a = 0;
            for (int64_t k = 0; k < in; k++) {
                s += (double)w[o * in + k] * x[r * in + k];
                a += fabs((double)w[o * in + k] * x[r * in + k]);
            }
            ref[r * out + o] = s;
            scale[r * out + o] = a;
        }
}

static void test_matmul(const struct wtype *ty, int64_t rows, int64_t in, int64_t out) {
    const size_t nb = weight_bytes(ty, out, in);
    float *wf = alloc_f(out * in), *wd = alloc_f(out * in), *x = alloc_f(rows * in);
    float *y = alloc_f(rows * out);
    uint8_t *w = alloc_b(nb);
    double *ref = xmalloc((size_t)(rows * out) * sizeof(double));
    double *scale = xmalloc((size_t)(rows * out) * sizeof(double));
    for (int64_t i = 0; i < out * in; i++) wf[i] = (float)urand();
    for (int64_t i = 0; i < rows * in; i++) x[i] = (float)(2 * urand());
    for (int64_t o = 0; o < out; o++) ty->quantize(wf + o * in, w + o * (nb / out), in);
    ty->dequantize(w, wd, out * in);
    ref_matmul(wd, x, rows, in, out, ref, scale);
    char detail[96];
    snprintf(detail, sizeof detail, "%s rows=%lld in=%lld out=%lld", ty->name, (long long)rows,
             (long long)in, (long long)out);
    for (int v = 0; v < N_VARIANTS; v++) {
        if (ffm_set_kernel_variant(VARIANTS[v]) != 0) continue;
        for (int64_t i = 0; i < rows * out; i++) y[i] = NAN;
        ty->matmul(w, x, y, rows, in, out);
        double worst = 0;
        int64_t worst_i = 0;
        for (int64_t i = 0; i < rows * out; i++) {
            /* float32 accumulation: error ~ eps * sqrt(in) * sum|w x|; allow eps * 4 * sum */
            double err = fabs((double)y[i] - ref[i]) / (4 * 0x1p-24 * scale[i] * 4 + 1e-30);
            if (!(err <= worst)) {
                worst = isnan(err) ? INFINITY : err;
                worst_i = i;
            }
        }
        check(worst <= 1.0, "matmul %s [%s]: y[%lld] = %.9g, ref %.9g", detail, VARIANTS[v],
              worst_i, y[worst_i], ref[worst_i]);

        /* a column range writes exactly its columns */
        const int64_t c0 = out / 3, c1 = out - out / 4;
        for (int64_t i = 0; i < rows * out; i++) y[i] = -1234.5f;
        int rc = ffm_matmul_typed_cols(ty->id, w, x, y, rows, in, out, c0, c1);
        int bad = rc != 0;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < out; o++) {
                const float g = y[r * out + o];
                if (o < c0 || o >= c1)
                    bad += g != -1234.5f;
                else
                    bad += !(fabs(g - ref[r * out + o]) <= 16 * 0x1p-24 * scale[r * out + o] + 1e-30);
            }
        check(bad == 0, "matmul_typed_cols %s [%s]: %lld bad outputs (%g %g)", detail,
              VARIANTS[v], bad, (double)c0, (double)c1);
    }
    free_f(wf);
    free_f(wd);
    free_f(x);
    free_f(y);
    free_b(w);
    free(ref);
    free(scale);
}

/*
 * ffm_matmul_q8act_cols: W (q8_0 / q4_0) times Q8_0(x), against the float64 matmul of the
 * dequantized W with the dequantized Q8_0(x). The block dots are exact integers, so only the
 * float32 block scaling and the sum over blocks round: a few eps of sum |w x|.
 * Also checks that only [c0, c1) is written.
 */
static void test_q8act(const struct wtype *ty, int64_t rows, int64_t in, int64_t out) {
    const size_t nb = weight_bytes(ty, out, in), xb = (size_t)(rows * in / 32 * 34);
    float *wf = alloc_f(out * in), *wd = alloc_f(out * in), *x = alloc_f(rows * in);
    float *xd = alloc_f(rows * in), *y = alloc_f(rows * out);
    uint8_t *w = alloc_b(nb), *xq = alloc_b(xb);
    double *ref = xmalloc((size_t)(rows * out) * sizeof(double));
    double *scale = xmalloc((size_t)(rows * out) * sizeof(double));
    for (int64_t i = 0; i < out * in; i++) wf[i] = (float)urand();
    /* x rows with very different magnitudes per block, as activations have */
    for (int64_t i = 0; i < rows * in; i++) x[i] = (float)(urand() * (1 + 100 * ((i / 32) % 3 == 1)));
    for (int64_t o = 0; o < out; o++) ty->quantize(wf + o * in, w + o * (nb / out), in);
    ty->dequantize(w, wd, out * in);
    ffm_quantize_q8_0(x, xq, rows * in);
    ffm_dequantize_q8_0(xq, xd, rows * in);
    ref_matmul(wd, xd, rows, in, out, ref, scale);
    char detail[96];
    snprintf(detail, sizeof detail, "%s rows=%lld in=%lld out=%lld", ty->name, (long long)rows,
             (long long)in, (long long)out);
    for (int v = 0; v < N_VARIANTS; v++) {
        if (ffm_set_kernel_variant(VARIANTS[v]) != 0) continue;
        const int64_t ranges[2][2] = {{0, out}, {out / 3, out - out / 4}};
        for (int c = 0; c < 2; c++) {
            const int64_t c0 = ranges[c][0], c1 = ranges[c][1];
            for (int64_t i = 0; i < rows * out; i++) y[i] = -1234.5f;
            int rc = ffm_matmul_q8act_cols(ty->id, w, xq, y, rows, in, out, c0, c1);
            long long bad = rc != 0, first_bad = -1;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t o = 0; o < out; o++) {
                    const int64_t i = r * out + o;
                    const int ok = o < c0 || o >= c1
                                       ? y[i] == -1234.5f
                                       : fabs(y[i] - ref[i]) <= 8 * 0x1p-24 * scale[i] + 1e-30;
                    if (!ok && first_bad < 0) first_bad = i;
                    bad += !ok;
                }
            const int64_t fb = first_bad < 0 ? 0 : first_bad;
            check(bad == 0, "matmul_q8act_cols %s [%s]: first bad y[%lld] = %.9g, ref %.9g",
                  detail, VARIANTS[v], fb, y[fb], ref[fb]);
        }
    }
    free_f(wf);
    free_f(wd);
    free_f(x);
    free_f(xd);
    free_f(y);
    free_b(w);
    free_b(xq);
    free(ref);
    free(scale);
}

/* ffm_quantize_rows_q8_0 in every variant: llama.cpp's activation rounding, byte for byte. */
static void test_quantize_rows(void) {
    const int64_t n = 32 * 40;
    float *x = alloc_f(n);
    uint8_t *want = alloc_b((size_t)(n / 32 * 34)), *got = alloc_b((size_t)(n / 32 * 34));
    for (int64_t i = 0; i < n; i++) {
        const int64_t b = i / 32;
        x[i] = b == 3 ? 0.0f : (float)(urand() * pow(10, (double)(b % 7) - 3));
        if (b == 5) x[i] = (float)((i % 9) - 4) * 0.25f; /* exact values, x * scale on ties */
    }
    for (int64_t b = 0; b < n / 32; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        ffm_quantize_f16(&d, want + b * 34, 1);
        for (int j = 0; j < 32; j++) want[b * 34 + 2 + j] = (uint8_t)(int8_t)rintf(x[b * 32 + j] * id);
    }
    for (int v = 0; v < N_VARIANTS; v++) {
        if (ffm_set_kernel_variant(VARIANTS[v]) != 0) continue;
        memset(got, 0xAB, (size_t)(n / 32 * 34));
        ffm_quantize_rows_q8_0(x, got, n);
        long long first = -1;
        for (int64_t i = 0; i < n / 32 * 34 && first < 0; i++)
            if (got[i] != want[i]) first = i;
        check(first < 0, "quantize_rows_q8_0 [%s]%s: byte %lld is %g, want %g", VARIANTS[v], "",
              first, first < 0 ? 0 : got[first], first < 0 ? 0 : want[first]);
    }
    free_f(x);
    free_b(want);
    free_b(got);
}

int main(void) {
    test_f16_rounding();
    test_bf16_rounding();
    test_block_layouts();
    test_round_trips();

    const int64_t rows_cases[] = {1, 2, 3, 5, 17};
    const int64_t out_cases[] = {1, 3, 4, 5, 9, 33};
    const int64_t in_q[] = {32, 64, 96, 288, 1056};
    const int64_t in_extra[] = {1, 17, 33, 530}; /* F16 / BF16 only: not whole blocks */
    for (int t = 0; t < N_TYPES; t++) {
        for (size_t ri = 0; ri < sizeof rows_cases / sizeof rows_cases[0]; ri++)
            for (size_t oi = 0; oi < sizeof out_cases / sizeof out_cases[0]; oi++) {
                for (size_t ii = 0; ii < sizeof in_q / sizeof in_q[0]; ii++)
                    test_matmul(&TYPES[t], rows_cases[ri], in_q[ii], out_cases[oi]);
                if (TYPES[t].block == 1)
                    for (size_t ii = 0; ii < sizeof in_extra / sizeof in_extra[0]; ii++)
                        test_matmul(&TYPES[t], rows_cases[ri], in_extra[ii], out_cases[oi]);
            }
    }
    test_quantize_rows();
    for (int t = 0; t < 2; t++) /* q8_0, q4_0 */
        for (size_t ri = 0; ri < sizeof rows_cases / sizeof rows_cases[0]; ri++)
            for (size_t oi = 0; oi < sizeof out_cases / sizeof out_cases[0]; oi++)
                for (size_t ii = 0; ii < sizeof in_q / sizeof in_q[0]; ii++)
                    test_q8act(&TYPES[t], rows_cases[ri], in_q[ii], out_cases[oi]);
    check(ffm_matmul_q8act_cols(FFM_WEIGHT_F16, NULL, NULL, NULL, 0, 32, 1, 0, 0) == -1,
          "q8act_cols rejects F16%s%s %lld %g %g", "", "", 0, 0, 0);
    check(ffm_matmul_typed_cols(FFM_WEIGHT_F32, NULL, NULL, NULL, 0, 32, 1, 0, 0) == -1,
          "typed_cols rejects F32%s%s %lld %g %g", "", "", 0, 0, 0);
    printf("test_quant: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
