package dev.ffmllama.engine;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.ffmllama.format.NormSpec;
import dev.ffmllama.kernels.Kernels;
import java.lang.foreign.MemorySegment;

/**
 * The three norm steps a decoder block uses, for the model's norm type, each mapped onto the
 * fused kernel that does it in the fewest passes. The decoder says what it wants (normalize;
 * add then normalize; scale, add then normalize) and stays the same for RMSNorm and LayerNorm.
 */
final class NormOps {
    private final Kernels k;
    private final NormSpec.Type type;
    private final float eps;
    private final long dim;

    NormOps(Kernels kernels, NormSpec.Type type, float eps, long dim) {
        this.k = kernels;
        this.type = type;
        this.eps = eps;
        this.dim = dim;
    }

    /** {@code out = N(in)}; out may alias in. */
    void apply(NormWeights n, MemorySegment in, MemorySegment out, int rows) {
        switch (type) {
            case RMSNORM -> k.rmsnorm(in, n.weight(), out, rows, dim, eps);
            case LAYERNORM -> k.layernorm(in, n.weight(), n.bias(), out, rows, dim, eps);
        }
    }

    /**
     * {@code sum = x + residual; out = N(sum)} in one pass. {@code sum} may alias x or residual;
     * out may alias sum when the caller does not need the sum.
     */
    void addApply(NormWeights n, MemorySegment x, MemorySegment residual, MemorySegment sum, MemorySegment out,
                  int rows) {
        switch (type) {
            case RMSNORM -> k.addRmsnorm(x, residual, n.weight(), sum, out, rows, dim, eps);
            case LAYERNORM -> k.addLayernorm(x, residual, n.weight(), n.bias(), sum, out, rows, dim, eps);
        }
    }

    /**
     * DeepNorm's residual step {@code out = N(alpha · x + f)}; out may alias x. x is
     * clobbered for RMSNorm: the kernel set fuses the scale only into LayerNorm ({@code deepnorm}),
     * so RMSNorm scales x in place and uses the fused add + RMSNorm.
     */
    void scaledAddApply(NormWeights n, float alpha, MemorySegment x, MemorySegment f, MemorySegment out, int rows) {
        switch (type) {
            case LAYERNORM -> k.deepnorm(x, f, alpha, n.weight(), n.bias(), out, rows, dim, eps);
            case RMSNORM -> {
                scaleInPlace(x, (long) rows * dim, alpha);
                k.addRmsnorm(f, x, n.weight(), x, out, rows, dim, eps);
            }
        }
    }

    /** x *= alpha over n floats (a simple counted loop: C2 vectorizes it). */
    private static void scaleInPlace(MemorySegment x, long n, float alpha) {
        for (long i = 0; i < n; i++) x.setAtIndex(JAVA_FLOAT, i, alpha * x.getAtIndex(JAVA_FLOAT, i));
    }
}
