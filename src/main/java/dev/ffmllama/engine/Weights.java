package dev.ffmllama.engine;

import static dev.ffmllama.format.LlamaTensorLayout.ATTN_K;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_Q;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_V;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_DOWN;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_GATE;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_UP;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.POST_ATTN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.POST_ATTN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.POST_FFN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.POST_FFN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.TOKEN_EMBEDDING;
import static dev.ffmllama.format.LlamaTensorLayout.block;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.format.TypedTensor;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * All tensors of a LLaMA-style model, resolved once at load time from a {@link ModelFile}: each is
 * checked against the config's shape, and kept as a segment view into the mapping (no copy), so
 * the forward pass never looks anything up or allocates. Which norm tensors exist follows the
 * config's {@link NormSpec}: LayerNorm biases, the sandwich's post-sublayer norms, and an optional
 * final norm. Matrices keep their storage type (F32, F16, BF16, Q8_0, Q4_0), or are converted
 * once at load time into off-heap copies when a {@code convertTo} type is given.
 */
public final class Weights {
    final Linear tokenEmbedding;        // [vocab, dim], read a row at a time
    final LayerWeights[] layers;
    final NormWeights outputNorm;       // null when the file has no output_norm.weight
    final Linear classifier;            // [vocab, dim]; the embedding itself when tied

    private final ModelFile file;
    private final WeightType convertTo;
    private final Arena arena;

    /** The weights as stored; throws ModelFormatException if a tensor is missing or misshapen. */
    public Weights(ModelFile file) {
        this(file, null, null);
    }

    /**
     * Resolves and shape-checks every tensor the decoder needs. With a {@code convertTo} type, every
     * matrix is converted to it once, into {@code arena} (which must outlive these weights).
     */
    public Weights(ModelFile file, WeightType convertTo, Arena arena) {
        if (convertTo != null && arena == null) throw new IllegalArgumentException("converting weights needs an arena");
        this.file = file;
        this.convertTo = convertTo;
        this.arena = arena;
        ModelConfig c = file.config();
        long dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
        boolean sandwich = c.norm().hasPostSublayerNorms();
        tokenEmbedding = linear(TOKEN_EMBEDDING, vocab, dim);
        layers = new LayerWeights[c.nLayers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new LayerWeights(
                    norm(file, block(l, ATTN_NORM), block(l, ATTN_NORM_BIAS)),
                    linear(block(l, ATTN_Q), dim, dim),
                    linear(block(l, ATTN_K), kvDim, dim),
                    linear(block(l, ATTN_V), kvDim, dim),
                    linear(block(l, ATTN_OUTPUT), dim, dim),
                    norm(file, block(l, FFN_NORM), block(l, FFN_NORM_BIAS)),
                    linear(block(l, FFN_GATE), hidden, dim),
                    linear(block(l, FFN_DOWN), dim, hidden),
                    linear(block(l, FFN_UP), hidden, dim),
                    sandwich ? norm(file, block(l, POST_ATTN_NORM), block(l, POST_ATTN_NORM_BIAS)) : null,
                    sandwich ? norm(file, block(l, POST_FFN_NORM), block(l, POST_FFN_NORM_BIAS)) : null);
        }
        outputNorm = file.hasTensor(OUTPUT_NORM) ? norm(file, OUTPUT_NORM, OUTPUT_NORM_BIAS) : null;
        classifier = file.hasTensor(OUTPUT) ? linear(OUTPUT, vocab, dim) : tokenEmbedding;
    }

    /** A matrix in its stored type, or converted to {@code convertTo}. */
    private Linear linear(String name, long out, long in) {
        TypedTensor t = file.weight(name, out, in);
        return Linear.of(convertTo == null ? t : WeightConversion.convert(name, t, convertTo, arena));
    }

    /** Bytes of weights one decoded token reads: every matrix once (the embedding only one row). */
    public long bytesReadPerToken() {
        long sum = classifier.byteSize() + tokenEmbedding.byteSize() / Math.max(1, tokenEmbedding.out());
        for (LayerWeights lw : layers) {
            for (Linear m : new Linear[] {lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.ffnGate(), lw.ffnDown(), lw.ffnUp()}) {
                sum += m.byteSize();
            }
        }
        return sum;
    }

    /** A norm's weight, and its bias when the model's norm is a LayerNorm (the bias is then required). */
    private static NormWeights norm(ModelFile file, String weightName, String biasName) {
        ModelConfig c = file.config();
        MemorySegment weight = file.tensor(weightName, c.dim()).segment();
        MemorySegment bias = c.norm().hasBias() ? file.tensor(biasName, c.dim()).segment() : null;
        return new NormWeights(weight, bias);
    }
}
