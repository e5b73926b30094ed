/*
 * attention.c — causal grouped-query attention over a KV cache, for one or many consecutive
 * query rows (decode or batched prefill). Compiled once per SIMD variant.
 *
 * One loop nest serves every cache layout (ffmllama.h, ffm_attention_kv): token-major or
 * head-major order, float32 or float16 elements. It is always_inline and each public entry
 * passes constants for the layout, so the compiler emits one specialised copy per combination
 * (no per-element branch on the layout).
 */
#include <math.h>

#include "half.h"
#include "rowops.h"
#include "variant.h"

#include "../include/ffmllama.h"

/*
 * Float16 elements are widened a chunk at a time into a stack buffer, once per cached row and chunk,
 * and then feed the float32 loops of every query head of the group.
 */
enum { HALF_CHUNK = 128 };

FFM_INLINE void halves_to_floats(const uint16_t *h, float *f, int64_t n) {
    int64_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(f + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(h + i))));
#endif
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(h + i))));
#endif
    for (; i < n; i++) f[i] = ffm_half_to_float(h[i]);
}

/* att[g * stride] = q_g . k * inv_sqrt for the group's heads g; k is head_size floats or halves. */
FFM_INLINE void score_key(const float *qg, const void *k, float *att, int64_t stride, int64_t group,
                          int64_t head_size, float inv_sqrt, const int f16) {
    if (!f16) {
        for (int64_t g = 0; g < group; g++)
            att[g * stride] = ffm_dot_f32(qg + g * head_size, (const float *)k, head_size) * inv_sqrt;
        return;
    }
    float buf[HALF_CHUNK];
    for (int64_t g = 0; g < group; g++) att[g * stride] = 0.0f;
    for (int64_t c = 0; c < head_size; c += HALF_CHUNK) {
        const int64_t n = head_size - c < HALF_CHUNK ? head_size - c : HALF_CHUNK;
        halves_to_floats((const uint16_t *)k + c, buf, n);
        for (int64_t g = 0; g < group; g++) att[g * stride] += ffm_dot_f32(qg + g * head_size + c, buf, n);
    }
    for (int64_t g = 0; g < group; g++) att[g * stride] *= inv_sqrt;
}

/* o_g += att[g * stride] * v for the group's heads g; v is head_size floats or halves. */
FFM_INLINE void add_value(float *restrict og, const float *att, int64_t stride, const void *v,
                          int64_t group, int64_t head_size, const int f16) {
    if (!f16) {
        const float *restrict v32 = (const float *)v;
        for (int64_t g = 0; g < group; g++) {
            const float a = att[g * stride];
            float *restrict oh = og + g * head_size;
            for (int64_t i = 0; i < head_size; i++) oh[i] += a * v32[i];
        }
        return;
    }
    float buf[HALF_CHUNK];
    for (int64_t c = 0; c < head_size; c += HALF_CHUNK) {
        const int64_t n = head_size - c < HALF_CHUNK ? head_size - c : HALF_CHUNK;
        halves_to_floats((const uint16_t *)v + c, buf, n);
        for (int64_t g = 0; g < group; g++) {
            const float a = att[g * stride];
            float *restrict oh = og + g * head_size + c;
            for (int64_t i = 0; i < n; i++) oh[i] += a * buf[i];
        }
    }
}

FFM_INLINE void attention_impl(const float *q, const void *k_cache, const void *v_cache,
                               float *out, float *scratch, int64_t rows, int64_t pos0,
                               int64_t n_heads, int64_t n_kv_heads, int64_t head_size,
                               int64_t capacity, int64_t kv_begin, int64_t kv_end,
                               const int head_major, const int f16) {
    const int64_t dim = n_heads * head_size;       /* one row of q / out */
    const int64_t kv_dim = n_kv_heads * head_size; /* one position of a token-major cache */
    const int64_t group = n_heads / n_kv_heads;    /* query heads sharing a kv head */
    const int64_t max_positions = pos0 + rows;
    const int64_t elem = f16 ? 2 : 4;
    /* element offset of kv head h at position t, and the step from one position to the next */
    const int64_t pos_step = head_major ? head_size : kv_dim;
    const float inv_sqrt = (float)(1.0 / sqrt((double)head_size));
    const char *kc = (const char *)k_cache, *vc = (const char *)v_cache;

    /*
     * The query heads sharing a kv head are processed together: each key and value row is fetched
     * from the cache once per group and reused from L1 by the group's heads, instead of the whole
     * cache being streamed once per query head. Each head has its own score region.
     *
     * Head-major caches are walked one kv head at a time: that head's positions are one contiguous
     * run. Token-major caches are walked position by position across all the kv heads of the share,
     * so the cache is read front to back as one stream: walked head by head instead, every head
     * touches a few lines of each position row (stride kv_dim), which the hardware prefetchers miss
     * once the weight matmuls have evicted the cache from L2/L3 (stories15M on Zen 3: 8% of decode
     * time in attention). The order of the sums per head is the same either way.
     */
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n_pos = pos0 + r + 1; /* causal: positions 0 .. pos0 + r */
        const int64_t h_begin = kv_begin * group, h_end = kv_end * group;
        float *restrict o_row = out + r * dim; /* out aliases no input */
        if (head_major) {
            for (int64_t kvh = kv_begin; kvh < kv_end; kvh++) {
                const int64_t h0 = kvh * group, head_at = kvh * capacity * head_size;
                const float *qg = q + r * dim + h0 * head_size;
                float *att = scratch + h0 * max_positions;
                for (int64_t t = 0; t < n_pos; t++)
                    score_key(qg, kc + (head_at + t * pos_step) * elem, att + t, max_positions, group,
                              head_size, inv_sqrt, f16);
                for (int64_t g = 0; g < group; g++)
                    ffm_softmax_row(att + g * max_positions, att + g * max_positions, n_pos);
                float *restrict og = o_row + h0 * head_size;
                for (int64_t i = 0; i < group * head_size; i++) og[i] = 0.0f;
                for (int64_t t = 0; t < n_pos; t++)
                    add_value(og, att + t, max_positions, vc + (head_at + t * pos_step) * elem, group,
                              head_size, f16);
            }
            continue;
        }
        for (int64_t t = 0; t < n_pos; t++)
            for (int64_t kvh = kv_begin; kvh < kv_end; kvh++) {
                const int64_t h0 = kvh * group;
                score_key(q + r * dim + h0 * head_size, kc + (t * pos_step + kvh * head_size) * elem,
                          scratch + h0 * max_positions + t, max_positions, group, head_size, inv_sqrt, f16);
            }
        for (int64_t h = h_begin; h < h_end; h++)
            ffm_softmax_row(scratch + h * max_positions, scratch + h * max_positions, n_pos);
        for (int64_t i = h_begin * head_size; i < h_end * head_size; i++) o_row[i] = 0.0f;
        for (int64_t t = 0; t < n_pos; t++)
            for (int64_t kvh = kv_begin; kvh < kv_end; kvh++) {
                const int64_t h0 = kvh * group;
                add_value(o_row + h0 * head_size, scratch + h0 * max_positions + t, max_positions,
                          vc + (t * pos_step + kvh * head_size) * elem, group, head_size, f16);
            }
    }
}

void FFM_VARIANT(attention)(const float *q, const float *k_cache, const float *v_cache,
                            float *out, float *scratch, int64_t rows, int64_t pos0,
                            int64_t n_heads, int64_t n_kv_heads, int64_t head_size) {
    attention_impl(q, k_cache, v_cache, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size,
                   pos0 + rows, 0, n_kv_heads, 0, 0);
}

int FFM_VARIANT(attention_kv)(const float *q, const void *k_cache, const void *v_cache,
                              float *out, float *scratch, int64_t rows, int64_t pos0,
                              int64_t n_heads, int64_t n_kv_heads, int64_t head_size,
                              int64_t capacity, int32_t order, int32_t type,
                              int64_t kv_head_begin, int64_t kv_head_end) {
#define FFM_ATTENTION_CASE(head_major, f16)                                                       \
    attention_impl(q, k_cache, v_cache, out, scratch, rows, pos0, n_heads, n_kv_heads, head_size, \
                   capacity, kv_head_begin, kv_head_end, head_major, f16)
    if (order == FFM_KV_TOKEN_MAJOR && type == FFM_KV_F32) FFM_ATTENTION_CASE(0, 0);
    else if (order == FFM_KV_TOKEN_MAJOR && type == FFM_KV_F16) FFM_ATTENTION_CASE(0, 1);
    else if (order == FFM_KV_HEAD_MAJOR && type == FFM_KV_F32) FFM_ATTENTION_CASE(1, 0);
    else if (order == FFM_KV_HEAD_MAJOR && type == FFM_KV_F16) FFM_ATTENTION_CASE(1, 1);
    else return -1;
    return 0;
#undef FFM_ATTENTION_CASE
}
