/*
 * ffmllama_quant.h — linear layers on F16, BF16, Q8_0 and Q4_0 weights, and the conversions
 * between those formats and float32.
 *
 * Like ffmllama.h this header is read by jextract (scripts/regen-bindings); the conventions of
 * ffmllama.h hold here too (int64_t sizes, the Java layer validates everything first, no
 * allocation, no argument checking).
 *
 * Weight layouts are ggml's, byte for byte (a row of `in` values is stored contiguously, rows one
 * after the other, no padding):
 *   F16   in x IEEE binary16                                              (2 bytes / value)
 *   BF16  in x bfloat16 (upper half of a float32)                         (2 bytes / value)
 *   Q8_0  in/32 blocks of { fp16 d; int8 q[32]; }      x[j] = d * q[j]    (34 bytes / 32 values)
 *   Q4_0  in/32 blocks of { fp16 d; uint8 qs[16]; }    x[j] = d * (q[j] - 8), where
 *         q[j] = qs[j] & 0xF (elements 0..15) and q[16 + j] = qs[j] >> 4 (elements 16..31)
 *                                                                         (18 bytes / 32 values)
 * Blocks are packed (the fp16 scale is at any 2-byte offset), so no pointer alignment is needed.
 * For Q8_0 and Q4_0, `in` must be a multiple of 32.
 *
 * Activations stay float32: every weight is dequantized exactly (d * q is exact in float32) and
 * multiplied with the float32 x, accumulating in float32 as the F32 sgemv does. So the result is
 * that of the float32 matmul over the dequantized weights, up to float32 summation order — not
 * llama.cpp's scheme, which first rounds x to Q8_0 (or F16) and differs by far more.
 * That scheme is available as an opt-in for Q8_0 / Q4_0 weights: ffm_quantize_rows_q8_0 +
 * ffm_matmul_q8act_cols below (int8 dot products; faster, less exact).
 */
#ifndef FFMLLAMA_QUANT_H
#define FFMLLAMA_QUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Weight type ids: ggml's numbering (the GGUF tensor type field). */
enum ffm_weight_type {
    FFM_WEIGHT_F32 = 0,
    FFM_WEIGHT_F16 = 1,
    FFM_WEIGHT_Q4_0 = 2,
    FFM_WEIGHT_Q8_0 = 8,
    FFM_WEIGHT_BF16 = 30
};

/* ---- linear layers: y[rows, out] = x[rows, in] . W^T, W = [out, in] in the type's layout ------ */
/*
 * x and y are float32 [rows, in] / [rows, out]; y must not overlap x or w. For rows > 1 the
 * weights are dequantized a panel of rows at a time and each panel is used for every x row, so W
 * is read from memory once per call whatever rows is. Single-threaded: split a call over threads
 * with ffm_matmul_typed_cols.
 */
void ffm_matmul_q8_0(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                     int64_t out);
void ffm_matmul_q4_0(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                     int64_t out);
void ffm_matmul_f16(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                    int64_t out);
void ffm_matmul_bf16(const void *w, const float *x, float *y, int64_t rows, int64_t in,
                     int64_t out);

/*
 * The same for any non-F32 type (an ffm_weight_type), computing only the outputs
 * [col_begin, col_end) (weight rows, columns of y): y[r * out + o] for those o, every r. Disjoint
 * column ranges touch disjoint parts of y, so threads can share one call's work this way.
 * 0 <= col_begin <= col_end <= out. Returns 0, or -1 (nothing written) for an unknown or F32 type.
 */
int ffm_matmul_typed_cols(int32_t type, const void *w, const float *x, float *y, int64_t rows,
                          int64_t in, int64_t out, int64_t col_begin, int64_t col_end);

/* ---- opt-in: Q8_0-quantized activations (llama.cpp's CPU scheme) ------------------------------ */
/*
 * y[r, o] for o in [col_begin, col_end), every r, with x first rounded to Q8_0:
 *   y[r, o] = sum_b d_w[o, b] * d_x[r, b] * (sum_j q_w[o, b, j] * q_x[r, b, j])
 * where xq holds x[rows, in] as Q8_0 blocks (rows * in / 32 blocks of 34 bytes; each x row is whole
 * blocks since in is a multiple of 32), normally from ffm_quantize_rows_q8_0. The integer sums
 * are exact (int8 x int8 dot products: VNNI vpdpbusd on AVX-512 CPUs that have it, vpmaddubsw
 * otherwise, int32 loops on baseline x86-64); only the block scaling and the sum over blocks round
 * in float32. So the result is the float32 matmul of the dequantized W with the dequantized
 * Q8_0(x), not the matmul with x itself: faster (one int8 byte per x value, integer dots), less
 * exact (x rounded to ~2 significant digits per block) — ffm_matmul_typed_cols stays the exact
 * default. Quantize x once per call, then split the columns over threads, all reading the same xq.
 * type: FFM_WEIGHT_Q8_0 or FFM_WEIGHT_Q4_0; in a multiple of 32; 0 <= col_begin <= col_end <= out;
 * y must not overlap w or xq. Returns 0, or -1 (nothing written) for any other type.
 */
int ffm_matmul_q8act_cols(int32_t type, const void *w, const void *xq, float *y, int64_t rows,
                          int64_t in, int64_t out, int64_t col_begin, int64_t col_end);

/*
 * n float32 activations (n a multiple of 32) -> n / 32 Q8_0 blocks, vectorized, rounding as
 * llama.cpp's CPU code does for activations (not ffm_quantize_q8_0's reference rounding):
 * d = fp16(amax / 127), q = round-half-to-even(x * (127 / amax)); q is 0 in an all-zero block.
 * The two differ only when x * scale lands within an ulp of a .5 tie.
 */
void ffm_quantize_rows_q8_0(const float *x, void *xq, int64_t n);

/* ---- conversions (load time, tests, tools; scalar code, identical in every variant) ---------- */
/*
 * Quantize n float32 values into dst, exactly as ggml's reference code:
 *   q8_0: quantize_row_q8_0_ref  (d = amax / 127, q = roundf(x / d), d stored as fp16)
 *   q4_0: quantize_row_q4_0_ref  (d = max / -8 with max the value of largest magnitude,
 *                                 q = min(15, (int)(x / d + 8.5)))
 *   f16:  round to nearest even (GGML_FP32_TO_FP16); overflow gives +-inf, NaN stays NaN
 *   bf16: round to nearest even (ggml_compute_fp32_to_bf16); NaN stays a quiet NaN
 * n must be a multiple of 32 for q8_0 / q4_0. dst holds n/32 blocks (or n halves).
 */
void ffm_quantize_q8_0(const float *src, void *dst, int64_t n);
void ffm_quantize_q4_0(const float *src, void *dst, int64_t n);
void ffm_quantize_f16(const float *src, void *dst, int64_t n);
void ffm_quantize_bf16(const float *src, void *dst, int64_t n);

/* Dequantize n values (the inverse layouts above; exact). */
void ffm_dequantize_q8_0(const void *src, float *dst, int64_t n);
void ffm_dequantize_q4_0(const void *src, float *dst, int64_t n);
void ffm_dequantize_f16(const void *src, float *dst, int64_t n);
void ffm_dequantize_bf16(const void *src, float *dst, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* FFMLLAMA_QUANT_H */
