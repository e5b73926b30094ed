package dev.ffmllama.engine;

import java.lang.foreign.MemorySegment;

/**
 * Observes activations during a forward pass, for diagnostics ({@code inspect --stats}). The
 * decoder holds no probe normally and then only tests a null field; with one attached it calls
 * back at every {@link ProbeSite} with a read-only view of the buffer that holds the values. The
 * views are only valid during the call (the buffers are reused); an implementation must copy or
 * reduce what it needs.
 */
public interface DecoderProbe {

    /** {@code values} holds {@code rows} rows of {@code dim} floats: the activations at {@code site} of {@code layer}. */
    void observe(int layer, ProbeSite site, MemorySegment values, int rows, int dim);

    /**
     * Like {@link #observe}, for a value the decoder never materializes because a fused kernel
     * computes it on the fly: element-wise {@code alpha · x + f} (DeepNorm's norm input).
     */
    void observeScaledSum(int layer, ProbeSite site, float alpha, MemorySegment x, MemorySegment f, int rows, int dim);
}
