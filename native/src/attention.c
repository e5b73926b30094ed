/*
 * attention.c — causal grouped-query attention over a token-major KV cache, for one or many
 * consecutive query rows (decode or batched prefill). Compiled once per SIMD variant.
 */
#include <math.h>

#include "rowops.h"
#include "variant.h"

void FFM_VARIANT(attention)(const float *q, const float *k_cache, const float *v_cache,
                            float *out, float *scratch, int64_t rows, int64_t pos0,
                            int64_t n_heads, int64_t n_kv_heads, int64_t head_size) {
    const int64_t dim = n_heads * head_size;       /* one row of q / out */
    const int64_t kv_dim = n_kv_heads * head_size; /* one position of the caches */
    const int64_t group = n_heads / n_kv_heads;    /* query heads sharing a kv head */
    const int64_t max_positions = pos0 + rows;
    const float inv_sqrt = (float)(1.0 / sqrt((double)head_size));

    /*
     * The query heads sharing a kv head are processed together, position-major: each key and
     * value row is fetched from the cache once per group and reused from L1 by the group's heads,
     * instead of the whole cache being streamed once per query head.
     */
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n_pos = pos0 + r + 1; /* causal: positions 0 .. pos0 + r */
        for (int64_t kvh = 0; kvh < n_kv_heads; kvh++) {
            const int64_t h0 = kvh * group, kv_off = kvh * head_size;
            const float *qg = q + r * dim + h0 * head_size;
            /* each head has its own score region (heads could also run in parallel) */
            float *att = scratch + h0 * max_positions;

            for (int64_t t = 0; t < n_pos; t++) {
                const float *kt = k_cache + t * kv_dim + kv_off;
                for (int64_t g = 0; g < group; g++)
                    att[g * max_positions + t] =
                        ffm_dot_f32(qg + g * head_size, kt, head_size) * inv_sqrt;
            }
            for (int64_t g = 0; g < group; g++)
                ffm_softmax_row(att + g * max_positions, att + g * max_positions, n_pos);

            float *restrict og = out + r * dim + h0 * head_size; /* out aliases no input */
            for (int64_t i = 0; i < group * head_size; i++) og[i] = 0.0f;
            for (int64_t t = 0; t < n_pos; t++) {
                const float *restrict vt = v_cache + t * kv_dim + kv_off;
                for (int64_t g = 0; g < group; g++) {
                    const float a = att[g * max_positions + t];
                    float *restrict oh = og + g * head_size;
                    for (int64_t i = 0; i < head_size; i++) oh[i] += a * vt[i];
                }
            }
        }
    }
}
