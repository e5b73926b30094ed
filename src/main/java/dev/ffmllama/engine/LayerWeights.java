package dev.ffmllama.engine;

/**
 * One decoder block's weights: matrices are {@link Linear}s {@code [out, in]} (views into the mapped
 * model file, or converted copies); norms are float32.
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
record LayerWeights(NormWeights attnNorm, Linear wq, Linear wk, Linear wv, Linear wo,
                    NormWeights ffnNorm, Linear ffnGate, Linear ffnDown, Linear ffnUp,
                    NormWeights postAttnNorm, NormWeights postFfnNorm) {
}
