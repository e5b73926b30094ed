package dev.ffmllama.format;

import java.util.Locale;

/**
 * How a decoder normalizes: which norm ({@link Type}), where it sits relative to the residual
 * connections ({@link Placement}), and DeepNorm's residual scale α. The GGUF keys
 * {@code llama.norm_type}, {@code llama.norm_placement} and {@code llama.deepnorm_alpha} select it;
 * a file without them is LLaMA's Pre-RMSNorm ({@link #PRE_RMSNORM}). The epsilon stays in
 * {@link ModelConfig#normEps()}.
 *
 * @param type      RMSNorm or LayerNorm
 * @param placement pre, post, sandwich or DeepNorm
 * @param alpha     DeepNorm's residual scale (multiplies the residual stream before each add); 1 for
 *                  every other placement
 */
public record NormSpec(Type type, Placement placement, float alpha) {

    /** LLaMA's normalization, and the meaning of a file that says nothing. */
    public static final NormSpec PRE_RMSNORM = new NormSpec(Type.RMSNORM, Placement.PRE, 1f);

    /** The normalization function. */
    public enum Type {
        /** {@code x / sqrt(mean(x²) + eps) · w} (Zhang &amp; Sennrich 2019); no bias. */
        RMSNORM,
        /** {@code (x − mean) / sqrt(var + eps) · w + b}, biased variance (Ba et al. 2016). */
        LAYERNORM;

        /** The value of {@code llama.norm_type}. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses a {@code llama.norm_type} value; throws IllegalArgumentException listing the choices. */
        public static Type parse(String s) {
            for (Type t : values()) if (t.key().equals(s)) return t;
            throw new IllegalArgumentException("unknown norm type '" + s + "' (expected rmsnorm or layernorm)");
        }
    }

    /**
     * Where the norms sit. With {@code x} the residual stream entering a block, {@code N1}/{@code N2}
     * the attention/FFN norms and {@code PN1}/{@code PN2} the sandwich's post-sublayer norms:
     */
    public enum Placement {
        /** {@code h = x + Attn(N1(x)); out = h + FFN(N2(h))} (GPT-2, LLaMA). */
        PRE,
        /** {@code h = N1(x + Attn(x)); out = N2(h + FFN(h))} (original Transformer, BERT). */
        POST,
        /** {@code h = x + PN1(Attn(N1(x))); out = h + PN2(FFN(N2(h)))} (Gemma 2, CogView). */
        SANDWICH,
        /** {@code h = N1(α·x + Attn(x)); out = N2(α·h + FFN(h))} (DeepNet). */
        DEEPNORM;

        /** The value of {@code llama.norm_placement}. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses a {@code llama.norm_placement} value; throws IllegalArgumentException listing the choices. */
        public static Placement parse(String s) {
            for (Placement p : values()) if (p.key().equals(s)) return p;
            throw new IllegalArgumentException("unknown norm placement '" + s
                    + "' (expected pre, post, sandwich or deepnorm)");
        }
    }

    public NormSpec {
        if (type == null || placement == null) throw new IllegalArgumentException("norm type and placement are required");
        if (!(alpha > 0) || Float.isInfinite(alpha)) {
            throw new IllegalArgumentException("DeepNorm alpha " + alpha + " is not a positive number");
        }
        if (placement != Placement.DEEPNORM && alpha != 1f) {
            throw new IllegalArgumentException("alpha " + alpha + " is only meaningful for the deepnorm placement, not "
                    + placement.key());
        }
    }

    /** A spec for the given type and placement, with DeepNet's default α when the placement is DeepNorm. */
    public static NormSpec of(Type type, Placement placement, int nLayers) {
        return new NormSpec(type, placement, placement == Placement.DEEPNORM ? defaultDeepNormAlpha(nLayers) : 1f);
    }

    /** DeepNet's decoder-only residual scale α = (2N)^¼ for N layers (Wang et al. 2022, table 1). */
    public static float defaultDeepNormAlpha(int nLayers) {
        return (float) Math.pow(2.0 * nLayers, 0.25);
    }

    /** DeepNet's decoder-only init scale β = (8N)^−¼ for N layers (Wang et al. 2022, table 1). */
    public static double deepNormBeta(int nLayers) {
        return Math.pow(8.0 * nLayers, -0.25);
    }

    /** Whether the norms have a bias (LayerNorm). */
    public boolean hasBias() {
        return type == Type.LAYERNORM;
    }

    /** Whether each block has the extra post-sublayer norms of the sandwich placement. */
    public boolean hasPostSublayerNorms() {
        return placement == Placement.SANDWICH;
    }

    /** For messages and tables, e.g. {@code deepnorm/layernorm (alpha 2.828)}. */
    public String describe() {
        String s = placement.key() + "/" + type.key();
        return placement == Placement.DEEPNORM ? s + String.format(Locale.ROOT, " (alpha %.4g)", alpha) : s;
    }
}
