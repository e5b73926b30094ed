package dev.ffmllama.engine;

import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * One decoder block's weights: matrices are {@link Linear}s {@code [out, in]} (views into the mapped
 * model file, or copies made at load time for a conversion or a layout); norms are float32.
 * With the fused layouts the projections that read the same input are one matrix and their separate
 * fields are null: {@code wqkv} replaces wq, wk, wv and {@code ffnGateUp} replaces ffnGate and ffnUp.
 *
 * @param attnNorm     N1: the norm before attention (pre, sandwich) or after its residual add (post, DeepNorm)
 * @param wq           [dim, dim], or null when fused
 * @param wk           [kvDim, dim], or null when fused
 * @param wv           [kvDim, dim], or null when fused
 * @param wqkv         [dim + 2 kvDim, dim]: rows of Wq, then Wk, then Wv ({@code qkv=fused}), else null
 * @param wo           [dim, dim]
 * @param ffnNorm      N2: the norm of the feed-forward sublayer, placed like {@code attnNorm}
 * @param ffnGate      [hidden, dim]    llama2.c w1, or null when fused
 * @param ffnDown      [dim, hidden]    llama2.c w2
 * @param ffnUp        [hidden, dim]    llama2.c w3, or null when fused
 * @param ffnGateUp    [2 hidden, dim]: rows of W1, then W3 ({@code ffn=fused}), else null
 * @param postAttnNorm PN1: the sandwich placement's norm of the attention output, else null
 * @param postFfnNorm  PN2: the sandwich placement's norm of the feed-forward output, else null
 */
record LayerWeights(NormWeights attnNorm, Linear wq, Linear wk, Linear wv, Linear wqkv, Linear wo,
                    NormWeights ffnNorm, Linear ffnGate, Linear ffnDown, Linear ffnUp, Linear ffnGateUp,
                    NormWeights postAttnNorm, NormWeights postFfnNorm) {

    /** Every matrix this block applies once per token (the fused ones, or their parts); load time only. */
    Linear[] matrices() {
        return Stream.of(wq, wk, wv, wqkv, wo, ffnGate, ffnUp, ffnGateUp, ffnDown).filter(Objects::nonNull)
                .toArray(Linear[]::new);
    }

    /** This block with every matrix replaced by {@code f} of it (norms shared; absent matrices stay absent). */
    LayerWeights withMatrices(UnaryOperator<Linear> f) {
        UnaryOperator<Linear> g = m -> m == null ? null : f.apply(m);
        return new LayerWeights(attnNorm, g.apply(wq), g.apply(wk), g.apply(wv), g.apply(wqkv), g.apply(wo), ffnNorm,
                g.apply(ffnGate), g.apply(ffnDown), g.apply(ffnUp), g.apply(ffnGateUp), postAttnNorm, postFfnNorm);
    }
}
