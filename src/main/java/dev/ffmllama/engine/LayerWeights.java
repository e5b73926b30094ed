package dev.ffmllama.engine;

import java.lang.foreign.MemorySegment;

/**
 * One decoder block's weights: views into the mapped model file, row-major {@code [out, in]}.
 *
 * @param attnNorm     N1: the norm before attention (pre, sandwich) or after its residual add (post, DeepNorm)
 * @param wq           [dim, dim]
 * @param wk           [kvDim, dim]
 * @param wv           [kvDim, dim]
 * @param wo           [dim, dim]
 * @param ffnNorm      N2: the norm of the feed-forward sublayer, placed like {@code attnNorm}
 * @param ffnGate      [hidden, dim]    llama2.c w1
 * @param ffnDown      [dim, hidden]    llama2.c w2
 * @param ffnUp        [hidden, dim]    llama2.c w3
 * @param postAttnNorm PN1: the sandwich placement's norm of the attention output, else null
 * @param postFfnNorm  PN2: the sandwich placement's norm of the feed-forward output, else null
 */
record LayerWeights(NormWeights attnNorm, MemorySegment wq, MemorySegment wk, MemorySegment wv, MemorySegment wo,
                    NormWeights ffnNorm, MemorySegment ffnGate, MemorySegment ffnDown, MemorySegment ffnUp,
                    NormWeights postAttnNorm, NormWeights postFfnNorm) {
}
