/*
 * quant_convert.c — float32 <-> F16 / BF16 / Q8_0 / Q4_0 conversions of ffmllama_quant.h.
 *
 * Load-time and test code, so plain scalar C compiled once (like dispatch.c), and compiled with
 * -ffp-contract=off (see the Makefile): the quantizers must round exactly as ggml's reference
 * quantize_row_q8_0_ref / quantize_row_q4_0_ref do, and a fused multiply-add in x * id + 8.5
 * would change some Q4_0 values. The Java quantizer (dev.ffmllama.kernels.Quantization) follows
 * the same steps, and the tests check that both produce the same bytes.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../include/ffmllama_quant.h"

#define FFM_API __attribute__((visibility("default")))

enum { QK = 32 };

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* float32 -> binary16, round to nearest even (as F16C's vcvtps2ph with rounding mode 0). */
static uint16_t float_to_half(float f) {
    const uint32_t x = float_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t abs = x & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu)); /* NaN */
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: inf */
    if (abs < 0x38800000u) {
        /* below the smallest normal half (2^-14): subnormal or zero. Rounding x * 2^24 to an
         * integer in round-to-nearest-even is exactly the half subnormal's mantissa; adding
         * 0.5f (2^-1) as a float does that rounding in hardware. */
        const float scaled = bits_float(abs) + 0.5f; /* 0.5 = 2^-1: ulp of the sum is 2^-24 */
        return (uint16_t)(sign | (float_bits(scaled) - 0x3f000000u));
    }
    /* normal: rebias the exponent, round the 13 dropped bits to nearest even */
    uint32_t h = ((abs - 0x38000000u) >> 13);
    const uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) return bits_float(sign | float_bits((float)mant * 5.9604644775390625e-8f));
    if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

static void store_half(uint8_t *p, float f) {
    const uint16_t h = float_to_half(f);
    memcpy(p, &h, sizeof h);
}

static float load_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return half_to_float(h);
}

FFM_API void ffm_quantize_q8_0(const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / QK; b++, src += QK, out += 34) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(src[j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_half(out, d);
        for (int j = 0; j < QK; j++) out[2 + j] = (uint8_t)(int8_t)roundf(src[j] * id);
    }
}

FFM_API void ffm_quantize_q4_0(const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / QK; b++, src += QK, out += 18) {
        float amax = 0.0f, max = 0.0f; /* max: the value with the largest magnitude (first wins) */
        for (int j = 0; j < QK; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        const float d = max / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        store_half(out, d);
        for (int j = 0; j < QK / 2; j++) {
            const float x0 = src[j] * id, x1 = src[QK / 2 + j] * id;
            int8_t xi0 = (int8_t)(x0 + 8.5f), xi1 = (int8_t)(x1 + 8.5f);
            if (xi0 > 15) xi0 = 15;
            if (xi1 > 15) xi1 = 15;
            out[2 + j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

FFM_API void ffm_quantize_f16(const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n; i++) store_half(out + 2 * i, src[i]);
}

FFM_API void ffm_quantize_bf16(const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n; i++) {
        const uint32_t u = float_bits(src[i]);
        uint16_t h;
        if ((u & 0x7fffffffu) > 0x7f800000u)
            h = (uint16_t)((u >> 16) | 64); /* NaN: keep it, force quiet */
        else
            h = (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
        memcpy(out + 2 * i, &h, sizeof h);
    }
}

FFM_API void ffm_dequantize_q8_0(const void *src, float *dst, int64_t n) {
    const uint8_t *in = src;
    for (int64_t b = 0; b < n / QK; b++, in += 34, dst += QK) {
        const float d = load_half(in);
        for (int j = 0; j < QK; j++) dst[j] = d * (float)(int8_t)in[2 + j];
    }
}

FFM_API void ffm_dequantize_q4_0(const void *src, float *dst, int64_t n) {
    const uint8_t *in = src;
    for (int64_t b = 0; b < n / QK; b++, in += 18, dst += QK) {
        const float d = load_half(in);
        for (int j = 0; j < QK / 2; j++) {
            dst[j] = d * (float)((in[2 + j] & 0x0f) - 8);
            dst[QK / 2 + j] = d * (float)((in[2 + j] >> 4) - 8);
        }
    }
}

FFM_API void ffm_dequantize_f16(const void *src, float *dst, int64_t n) {
    const uint8_t *in = src;
    for (int64_t i = 0; i < n; i++) dst[i] = load_half(in + 2 * i);
}

FFM_API void ffm_dequantize_bf16(const void *src, float *dst, int64_t n) {
    const uint8_t *in = src;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, in + 2 * i, sizeof h);
        dst[i] = bits_float((uint32_t)h << 16);
    }
}
