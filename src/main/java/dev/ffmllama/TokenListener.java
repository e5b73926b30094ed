package dev.ffmllama;

/** Receives each generated token as soon as it is sampled. */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param token    the token id (decode it with {@link Model#tokenizer()})
     * @param position the position the token will occupy in the sequence
     * @return {@code true} to continue, {@code false} to stop generating
     */
    boolean onToken(int token, int position);
}
