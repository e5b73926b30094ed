/*
 * bench_quant.c — throughput of the typed-weight linear layers (`make bench-quant`).
 *
 * For the matrices of one llama token (stories15M: dim 288, hidden 768, 6 layers; stories110M: dim
 * 768, hidden 2048, 12 layers; vocab 32000 each), every type and every variant: time of all the
 * decode matvecs of one token (so an upper bound on tok/s from the linear layers alone), the weight
 * bytes streamed per second, and the prefill time per token with 64 rows at once. Single thread.
 * Each matrix has its own buffer, so a model larger than the caches streams from memory.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ffmllama.h"
#include "ffmllama_quant.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct model {
    const char *name;
    int64_t dim, hidden, layers, vocab;
};
struct wtype {
    const char *name;
    int32_t id;
    int block, block_bytes;
    void (*quantize)(const float *, void *, int64_t);
};
static const struct wtype TYPES[] = {
    {"q8_0", FFM_WEIGHT_Q8_0, 32, 34, ffm_quantize_q8_0},
    {"q4_0", FFM_WEIGHT_Q4_0, 32, 18, ffm_quantize_q4_0},
    {"f16", FFM_WEIGHT_F16, 1, 2, ffm_quantize_f16},
    {"bf16", FFM_WEIGHT_BF16, 1, 2, ffm_quantize_bf16},
};

enum { MAX_MATS = 7 * 12 + 1, PREFILL_ROWS = 64 };

int main(int argc, char **argv) {
    const struct model models[] = {{"stories15M", 288, 768, 6, 32000},
                                   {"stories110M", 768, 2048, 12, 32000}};
    const char *variants[] = {"avx512", "avx2", "baseline"};
    const int n_variants = argc > 1 ? atoi(argv[1]) : 1; /* default: the best variant only */
    for (size_t m = 0; m < 2; m++) {
        const struct model *md = &models[m];
        int64_t outs[MAX_MATS], ins[MAX_MATS];
        int n = 0;
        for (int64_t l = 0; l < md->layers; l++) {
            const int64_t o[7] = {md->dim, md->dim, md->dim, md->dim, md->hidden, md->hidden, md->dim};
            const int64_t i[7] = {md->dim, md->dim, md->dim, md->dim, md->dim, md->dim, md->hidden};
            for (int k = 0; k < 7; k++, n++) outs[n] = o[k], ins[n] = i[k];
        }
        outs[n] = md->vocab, ins[n] = md->dim, n++;
        int64_t max_in = md->hidden, max_out = md->vocab;
        float *x = malloc(sizeof(float) * PREFILL_ROWS * max_in);
        float *y = malloc(sizeof(float) * PREFILL_ROWS * max_out);
        void *xq = malloc((size_t)(max_in / 32) * 34);
        for (int64_t i = 0; i < PREFILL_ROWS * max_in; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
        for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
            const struct wtype *ty = &TYPES[t];
            void *w[MAX_MATS];
            double bytes = 0;
            for (int k = 0; k < n; k++) {
                size_t nb = (size_t)(outs[k] * (ins[k] / ty->block) * ty->block_bytes);
                float *src = malloc(sizeof(float) * outs[k] * ins[k]);
                for (int64_t i = 0; i < outs[k] * ins[k]; i++) src[i] = (float)((i * 104729) % 2001) / 1000.0f - 1.0f;
                w[k] = malloc(nb);
                ty->quantize(src, w[k], outs[k] * ins[k]);
                free(src);
                bytes += (double)nb;
            }
            for (int v = 0; v < n_variants; v++) {
                if (ffm_set_kernel_variant(variants[v]) != 0) continue;
                double best = 1e30, best_prefill = 1e30;
                for (int rep = 0; rep < 15; rep++) {
                    double t0 = now_s();
                    for (int k = 0; k < n; k++)
                        ffm_matmul_typed_cols(ty->id, w[k], x, y, 1, ins[k], outs[k], 0, outs[k]);
                    double dt = now_s() - t0;
                    if (dt < best) best = dt;
                }
                /* the same decode with llama.cpp-style Q8_0 activations (Q8_0 / Q4_0 weights) */
                double best_q8act = 0;
                if (ty->block == 32) {
                    best_q8act = 1e30;
                    for (int rep = 0; rep < 15; rep++) {
                        double t0 = now_s();
                        for (int k = 0; k < n; k++) {
                            ffm_quantize_rows_q8_0(x, xq, ins[k]);
                            ffm_matmul_q8act_cols(ty->id, w[k], xq, y, 1, ins[k], outs[k], 0, outs[k]);
                        }
                        double dt = now_s() - t0;
                        if (dt < best_q8act) best_q8act = dt;
                    }
                }
                for (int rep = 0; rep < 3; rep++) {
                    double t0 = now_s();
                    for (int k = 0; k < n; k++)
                        ffm_matmul_typed_cols(ty->id, w[k], x, y, PREFILL_ROWS, ins[k], outs[k], 0, outs[k]);
                    double dt = (now_s() - t0) / PREFILL_ROWS;
                    if (dt < best_prefill) best_prefill = dt;
                }
                printf("%-12s %-5s %-8s weights %6.1f MB  decode %7.3f ms/token = %6.1f tok/s  %5.1f GB/s"
                       "   prefill(64) %6.3f ms/token = %6.1f tok/s",
                       md->name, ty->name, variants[v], bytes / 1e6, best * 1e3, 1.0 / best,
                       bytes / best / 1e9, best_prefill * 1e3, 1.0 / best_prefill);
                if (best_q8act > 0)
                    printf("   q8act decode %6.1f tok/s %5.1f GB/s", 1.0 / best_q8act, bytes / best_q8act / 1e9);
                printf("\n");
            }
            for (int k = 0; k < n; k++) free(w[k]);
        }
        free(x);
        free(y);
        free(xq);
    }
    return 0;
}
