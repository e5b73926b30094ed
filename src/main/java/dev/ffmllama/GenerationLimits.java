package dev.ffmllama;

/**
 * How long {@link Session#generate} may run.
 *
 * @param maxNewTokens tokens to sample at most after the prompt (generation also stops when the
 *                     context is full, or at BOS/EOS when {@code stopAtEndOfSequence})
 * @param stopAtEndOfSequence stop when the model samples BOS or EOS (llama2.c stops at BOS)
 */
public record GenerationLimits(int maxNewTokens, boolean stopAtEndOfSequence) {
    public GenerationLimits {
        if (maxNewTokens < 0) throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
    }

    /** At most {@code maxNewTokens} new tokens, stopping at end of sequence. */
    public static GenerationLimits of(int maxNewTokens) {
        return new GenerationLimits(maxNewTokens, true);
    }

    /**
     * llama2.c's {@code -n steps}: {@code steps} positions in all, the prompt included
     * ({@code promptTokens} counts BOS).
     */
    public static GenerationLimits ofSteps(int steps, int promptTokens) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        return new GenerationLimits(Math.max(0, steps - promptTokens + 1), true);
    }
}
