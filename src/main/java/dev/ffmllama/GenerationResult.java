package dev.ffmllama;

/**
 * What a call to {@link Session#generate} did.
 *
 * @param tokens           the whole sequence: BOS, prompt and generated tokens
 * @param promptTokens     how many of {@code tokens} came from the prompt (BOS included)
 * @param stopReason       why generation ended
 * @param promptNanos      time spent on the prompt (prefill)
 * @param generationNanos  time spent sampling new tokens
 * @param allocatedBytes   Java heap bytes this thread allocated while sampling new tokens
 */
public record GenerationResult(int[] tokens, int promptTokens, StopReason stopReason, long promptNanos,
                               long generationNanos, long allocatedBytes) {

    /** Why generation stopped. */
    public enum StopReason { LIMIT, END_OF_SEQUENCE, CONTEXT_FULL, LISTENER }

    public int generatedTokens() {
        return tokens.length - promptTokens;
    }

    /** Prefill speed in tokens per second. */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** Decode speed in tokens per second. */
    public double generationTokensPerSecond() {
        return generationNanos == 0 ? 0 : generatedTokens() * 1e9 / generationNanos;
    }
}
