package dev.ffmllama.synth;

import dev.ffmllama.format.NormSpec;

/**
 * The shape, normalization and initialization of a random-weight model for {@link SyntheticModel}.
 *
 * @param dim           residual width
 * @param hidden        SwiGLU width
 * @param layers        decoder blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads (divides heads)
 * @param vocab         vocabulary size; 0 = the tokenizer's size
 * @param context       context length
 * @param norm          norm type, placement and (DeepNorm) α
 * @param seed          random seed; each tensor draws from its own stream derived from the seed and its
 *                      name, so two variants with one seed share every tensor they have in common
 *                      (DeepNorm's β-scaled ones excepted)
 * @param initStd       standard deviation of the normal init of the embedding and every matrix
 * @param normJitter    0 for the usual norm init (weight 1, bias 0); otherwise the standard deviation
 *                      of normal noise added to both (tests use it to exercise weights and biases)
 */
public record SynthSpec(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int context,
                        NormSpec norm, long seed, double initStd, double normJitter) {

    /** GPT-2's and LLaMA's std of the normal init of weights (Radford et al. 2019; Touvron et al. 2023 code). */
    public static final double DEFAULT_INIT_STD = 0.02;

    public SynthSpec {
        positive("dim", dim);
        positive("hidden", hidden);
        positive("layers", layers);
        positive("heads", heads);
        positive("kv-heads", kvHeads);
        positive("context", context);
        if (vocab < 0) throw new IllegalArgumentException("vocab must be >= 0 (0 = the tokenizer's), got " + vocab);
        if (dim % heads != 0) throw new IllegalArgumentException("heads " + heads + " does not divide dim " + dim);
        if (heads % kvHeads != 0) throw new IllegalArgumentException("kv-heads " + kvHeads + " does not divide heads " + heads);
        if ((dim / heads) % 2 != 0) throw new IllegalArgumentException("head size " + dim / heads + " must be even (RoPE)");
        if (!(initStd > 0) || Double.isInfinite(initStd)) throw new IllegalArgumentException("init std " + initStd + " must be positive");
        if (!(normJitter >= 0) || Double.isInfinite(normJitter)) {
            throw new IllegalArgumentException("norm jitter " + normJitter + " must be >= 0");
        }
        if (norm == null) throw new IllegalArgumentException("norm spec is required");
    }

    private static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be positive, got " + value);
    }

    /** The same spec with another vocabulary size. */
    public SynthSpec withVocab(int v) {
        return new SynthSpec(dim, hidden, layers, heads, kvHeads, v, context, norm, seed, initStd, normJitter);
    }
}
