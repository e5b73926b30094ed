package dev.ffmllama.format;

/**
 * Hyper-parameters of a LLaMA-style decoder, as read from a checkpoint.
 *
 * @param dim              width of the residual stream
 * @param hiddenDim        width of the SwiGLU feed-forward layer
 * @param nLayers          number of decoder blocks
 * @param nHeads           query heads
 * @param nKvHeads         key/value heads (GQA when fewer than nHeads)
 * @param vocabSize        tokens in the vocabulary / rows of the classifier
 * @param contextLength    maximum positions (KV-cache length)
 * @param ropeTheta        RoPE base frequency
 * @param normEps          epsilon of the model's norm (RMSNorm or LayerNorm, see {@code norm})
 * @param sharedClassifier true when the classifier is the token embedding (tied weights)
 * @param norm             norm type and placement ({@link NormSpec#PRE_RMSNORM} for LLaMA)
 */
public record ModelConfig(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                          int contextLength, float ropeTheta, float normEps, boolean sharedClassifier,
                          NormSpec norm) {

    /** A LLaMA (Pre-RMSNorm) config, as every llama2.c checkpoint and plain llama GGUF file has. */
    public ModelConfig(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize,
                       int contextLength, float ropeTheta, float normEps, boolean sharedClassifier) {
        this(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, contextLength, ropeTheta, normEps, sharedClassifier,
                NormSpec.PRE_RMSNORM);
    }

    public ModelConfig {
        java.util.Objects.requireNonNull(norm, "norm");
    }

    /** The same config with another normalization. */
    public ModelConfig withNorm(NormSpec spec) {
        return new ModelConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, contextLength, ropeTheta, normEps,
                sharedClassifier, spec);
    }

    public NormSpec.Type normType() {
        return norm.type();
    }

    public NormSpec.Placement normPlacement() {
        return norm.placement();
    }

    public int headSize() {
        return dim / nHeads;
    }

    public int kvDim() {
        return nKvHeads * headSize();
    }

    /**
     * Checks the fields against each other; throws {@link ModelFormatException} naming the field.
     * {@code source} names the file in the message.
     */
    public ModelConfig validate(String source) {
        positive(source, "dim", dim);
        positive(source, "hidden_dim", hiddenDim);
        positive(source, "n_layers", nLayers);
        positive(source, "n_heads", nHeads);
        positive(source, "n_kv_heads", nKvHeads);
        positive(source, "vocab_size", vocabSize);
        positive(source, "context_length", contextLength);
        if (dim % nHeads != 0) {
            throw new ModelFormatException(source + ": n_heads " + nHeads + " does not divide dim " + dim);
        }
        if (nHeads % nKvHeads != 0) {
            throw new ModelFormatException(source + ": n_kv_heads " + nKvHeads + " does not divide n_heads " + nHeads);
        }
        if (headSize() % 2 != 0) {
            throw new ModelFormatException(source + ": head size " + headSize() + " is odd; RoPE needs pairs");
        }
        if (!(ropeTheta > 0) || Float.isInfinite(ropeTheta)) {
            throw new ModelFormatException(source + ": rope theta " + ropeTheta + " is not a positive number");
        }
        if (!(normEps >= 0) || Float.isInfinite(normEps)) {
            throw new ModelFormatException(source + ": norm epsilon " + normEps + " is not a non-negative number");
        }
        return this;
    }

    private static void positive(String source, String field, long value) {
        if (value <= 0) throw new ModelFormatException(source + ": " + field + " = " + value + " must be positive");
    }
}
