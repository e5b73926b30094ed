/*
 * half.h — scalar IEEE binary16 -> float32 conversion, exact, for the quantized-weight code
 * (the fp16 scales of Q8_0 / Q4_0 blocks, F16 tails). Uses the F16C instruction where the variant
 * being compiled has it, else the bit-level conversion (which gives the same value).
 */
#ifndef FFMLLAMA_HALF_H
#define FFMLLAMA_HALF_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline __attribute__((always_inline)) float ffm_half_to_float(uint16_t h) {
#if defined(__F16C__)
    return _cvtsh_ss(h);
#else
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24, exact in float */
        float f = (float)mant * 5.9604644775390625e-8f;
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13); /* inf / NaN (payload kept) */
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
#endif
}

/* The 16-bit little-endian value at p (any alignment). */
static inline __attribute__((always_inline)) uint16_t ffm_load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) float ffm_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif /* FFMLLAMA_HALF_H */
