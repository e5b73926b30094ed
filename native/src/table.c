/* table.c — this variant's kernel table, which dispatch.c selects from. Compiled per variant. */
#include "variant.h"

#define FFM_TABLE_NAME_(suffix) ffm_kernels_##suffix
#define FFM_TABLE_NAME(suffix) FFM_TABLE_NAME_(suffix)
#define FFM_STRINGIFY_(s) #s
#define FFM_STRINGIFY(s) FFM_STRINGIFY_(s)

const ffm_kernel_table FFM_TABLE_NAME(FFM_VARIANT_SUFFIX) = {
    .name = FFM_STRINGIFY(FFM_VARIANT_SUFFIX),
    .rmsnorm = FFM_VARIANT(rmsnorm),
    .rmsnorm_gemma = FFM_VARIANT(rmsnorm_gemma),
    .layernorm = FFM_VARIANT(layernorm),
    .add_rmsnorm = FFM_VARIANT(add_rmsnorm),
    .add_layernorm = FFM_VARIANT(add_layernorm),
    .deepnorm = FFM_VARIANT(deepnorm),
    .batchnorm_infer = FFM_VARIANT(batchnorm_infer),
    .batchnorm_train = FFM_VARIANT(batchnorm_train),
    .softmax = FFM_VARIANT(softmax),
    .rope = FFM_VARIANT(rope),
    .silu_mul = FFM_VARIANT(silu_mul),
    .add = FFM_VARIANT(add),
    .attention = FFM_VARIANT(attention),
    .attention_kv = FFM_VARIANT(attention_kv),
    .matmul_q8_0 = FFM_VARIANT(matmul_q8_0),
    .matmul_q4_0 = FFM_VARIANT(matmul_q4_0),
    .matmul_f16 = FFM_VARIANT(matmul_f16),
    .matmul_bf16 = FFM_VARIANT(matmul_bf16),
    .matmul_q8act_q8_0 = FFM_VARIANT(matmul_q8act_q8_0),
    .matmul_q8act_q4_0 = FFM_VARIANT(matmul_q8act_q4_0),
    .quantize_rows_q8_0 = FFM_VARIANT(quantize_rows_q8_0),
};
