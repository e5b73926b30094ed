package dev.ffmllama.engine;

/**
 * The points of a decoder block where a {@link DecoderProbe} sees activations. Which ones a forward
 * pass reports depends on the placement: the sandwich's {@code POST_*} sites exist only there, and
 * the final-norm sites are reported once, with layer index {@code nLayers}, when the model has an
 * {@code output_norm}.
 */
public enum ProbeSite {
    /** The residual stream entering the block (x). */
    BLOCK_INPUT("block in"),
    /** N1's input: x (pre, sandwich), x + Attn(x) (post), α·x + Attn(x) (DeepNorm). */
    ATTN_NORM_INPUT("N1 in"),
    /** N1's output. */
    ATTN_NORM_OUTPUT("N1 out"),
    /** The attention sublayer's output, after Wo. */
    ATTN_OUTPUT("attn out"),
    /** PN1(attention output), sandwich only. */
    POST_ATTN_NORM_OUTPUT("PN1 out"),
    /** N2's input: h (pre, sandwich), h + FFN(h) (post), α·h + FFN(h) (DeepNorm). */
    FFN_NORM_INPUT("N2 in"),
    /** N2's output. */
    FFN_NORM_OUTPUT("N2 out"),
    /** The feed-forward sublayer's output, after W2. */
    FFN_OUTPUT("ffn out"),
    /** PN2(feed-forward output), sandwich only. */
    POST_FFN_NORM_OUTPUT("PN2 out"),
    /** The final norm's input (the last hidden state). */
    FINAL_NORM_INPUT("final in"),
    /** The final norm's output (what the classifier reads). */
    FINAL_NORM_OUTPUT("final out");

    private final String label;

    ProbeSite(String label) {
        this.label = label;
    }

    /** A short column header. */
    public String label() {
        return label;
    }
}
