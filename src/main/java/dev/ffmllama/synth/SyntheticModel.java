package dev.ffmllama.synth;

import static dev.ffmllama.format.LlamaTensorLayout.ATTN_OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_V;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_DOWN;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_GATE;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_UP;

import dev.ffmllama.format.GgufFile;
import dev.ffmllama.format.GgufValueType;
import dev.ffmllama.format.GgufWriter;
import dev.ffmllama.format.Llama2cTokenizerFile;
import dev.ffmllama.format.LlamaTensorLayout;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.format.Vocabulary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a random-weight llama GGUF of any shape and {@link NormSpec}, complete with a tokenizer
 * copied from another model, so it loads like a real model (in this runtime, and in llama.cpp when
 * the placement is plain {@code pre} with RMSNorm: only the standard llama keys are written then).
 *
 * <p>Initialization: the embedding, the classifier and every matrix draw from N(0, initStd²)
 * (GPT-2 / LLaMA style, {@link SynthSpec#DEFAULT_INIT_STD}); norm weights are 1 and biases 0. For
 * DeepNorm, DeepNet's decoder-only rule scales the init of {@code attn_v}, {@code attn_output},
 * {@code ffn_gate}, {@code ffn_up} and {@code ffn_down} by β = (8N)^−¼ (Wang et al. 2022,
 * "DeepNet: Scaling Transformers to 1,000 Layers", table 1); q and k keep the plain init.
 */
public final class SyntheticModel {
    private static final String TOKENIZER_PREFIX = "tokenizer.";

    private SyntheticModel() {
    }

    /**
     * Writes the model to {@code out}, with the tokenizer of {@code tokenizerFrom} (a GGUF model, whose
     * {@code tokenizer.*} keys are copied, or a llama2.c tokenizer .bin). A {@code spec.vocab()} of 0
     * takes the tokenizer's size; any other value must equal it. Returns the config written.
     */
    public static ModelConfig write(SynthSpec spec, Path tokenizerFrom, Path out) throws IOException {
        GgufWriter w = new GgufWriter();
        String arch = "llama";
        NormSpec norm = spec.norm();
        w.putString("general.architecture", arch);
        w.putString("general.name", "synth " + norm.describe());
        w.alignment(32);
        String p = arch + ".";
        w.putUint32(p + "context_length", spec.context());
        w.putUint32(p + "embedding_length", spec.dim());
        w.putUint32(p + "block_count", spec.layers());
        w.putUint32(p + "feed_forward_length", spec.hidden());
        w.putUint32(p + "rope.dimension_count", spec.dim() / spec.heads());
        w.putUint32(p + "attention.head_count", spec.heads());
        w.putUint32(p + "attention.head_count_kv", spec.kvHeads());
        float eps = 1e-5f;
        if (norm.type() == NormSpec.Type.RMSNORM) {
            w.putFloat32(p + "attention.layer_norm_rms_epsilon", eps);
        } else {
            w.putFloat32(p + "attention.layer_norm_epsilon", eps);
        }
        // The variant keys only when they differ from LLaMA's, so a pre/rmsnorm file is a plain llama file.
        if (norm.type() != NormSpec.Type.RMSNORM) w.putString(p + "norm_type", norm.type().key());
        if (norm.placement() != NormSpec.Placement.PRE) w.putString(p + "norm_placement", norm.placement().key());
        if (norm.placement() == NormSpec.Placement.DEEPNORM) w.putFloat32(p + "deepnorm_alpha", norm.alpha());

        int tokenizerSize;
        GgufFile tokenizerGguf = null;
        try {
            if (isGguf(tokenizerFrom)) {
                tokenizerGguf = GgufFile.open(tokenizerFrom);
                if (!tokenizerGguf.metadata().has("tokenizer.ggml.tokens")) {
                    throw new IllegalArgumentException(tokenizerFrom + " has no tokenizer.ggml.tokens to copy");
                }
                tokenizerSize = tokenizerGguf.metadata().getArray("tokenizer.ggml.tokens").length();
                w.copyMetadata(tokenizerGguf.metadata(), k -> k.startsWith(TOKENIZER_PREFIX));
            } else {
                Vocabulary v = Llama2cTokenizerFile.read(tokenizerFrom);
                tokenizerSize = v.size();
                putLlama2cVocabulary(w, v);
            }
        } finally {
            if (tokenizerGguf != null) tokenizerGguf.close();
        }
        int vocab = spec.vocab() == 0 ? tokenizerSize : spec.vocab();
        if (vocab != tokenizerSize) {
            throw new IllegalArgumentException("--vocab " + vocab + " does not match the " + tokenizerSize
                    + " tokens of the tokenizer in " + tokenizerFrom);
        }

        ModelConfig config = new ModelConfig(spec.dim(), spec.hidden(), spec.layers(), spec.heads(), spec.kvHeads(), vocab,
                spec.context(), 10000f, eps, false, norm);
        double beta = norm.placement() == NormSpec.Placement.DEEPNORM ? NormSpec.deepNormBeta(spec.layers()) : 1.0;
        for (Map.Entry<String, long[]> e : LlamaTensorLayout.expectedShapes(config).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            w.tensor(name, init(spec, name, shape, beta), shape);
        }
        w.write(out);
        return config;
    }

    /** One tensor's initial values (see the class comment). */
    private static float[] init(SynthSpec spec, String name, long[] shape, double beta) {
        int n = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        SplittableRandom rng = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] v = new float[n];
        if (shape.length == 1) { // a norm weight or bias
            double base = name.endsWith(".weight") ? 1.0 : 0.0;
            for (int i = 0; i < n; i++) v[i] = (float) (base + spec.normJitter() * rng.nextGaussian());
            return v;
        }
        double std = spec.initStd() * (isDeepNormScaled(name) ? beta : 1.0);
        for (int i = 0; i < n; i++) v[i] = (float) (std * rng.nextGaussian());
        return v;
    }

    /** The projections DeepNet down-scales by β: values, attention output and the feed-forward layer. */
    private static boolean isDeepNormScaled(String name) {
        for (String suffix : new String[] {ATTN_V, ATTN_OUTPUT, FFN_GATE, FFN_UP, FFN_DOWN}) {
            if (name.endsWith("." + suffix)) return true;
        }
        return false;
    }

    /**
     * A llama2.c vocabulary as llama.cpp's converter writes it: SentencePiece pieces with ▁ for
     * spaces, ids 0, 1 and 2 named {@code <unk>}, {@code <s>} and {@code </s>}.
     */
    private static void putLlama2cVocabulary(GgufWriter w, Vocabulary v) {
        byte[][] pieces = new byte[v.size()][];
        long[] types = new long[v.size()];
        String[] special = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < v.size(); i++) {
            String piece = i < special.length ? special[i] : new String(v.pieces()[i], StandardCharsets.UTF_8);
            pieces[i] = piece.replace(" ", "\u2581").getBytes(StandardCharsets.UTF_8);
            types[i] = v.tokenTypes()[i];
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putStrings("tokenizer.ggml.tokens", pieces);
        w.putFloats("tokenizer.ggml.scores", v.scores());
        w.putIntegers("tokenizer.ggml.token_type", GgufValueType.INT32, types);
        w.putUint32("tokenizer.ggml.bos_token_id", v.bosId());
        w.putUint32("tokenizer.ggml.eos_token_id", v.eosId());
        w.putUint32("tokenizer.ggml.unknown_token_id", 0);
    }

    private static boolean isGguf(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return Arrays.equals(in.readNBytes(4), "GGUF".getBytes(StandardCharsets.US_ASCII));
        }
    }
}
