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
import java.lang.foreign.MemorySegment;

/**
 * All tensors of a LLaMA-style model, resolved once at load time from a {@link ModelFile}: each is
 * checked against the config's shape, and kept as a segment view into the mapping (no copy), so
 * the forward pass never looks anything up or allocates. Which norm tensors exist follows the
 * config's {@link NormSpec}: LayerNorm biases, the sandwich's post-sublayer norms, and an optional
 * final norm.
 */
public final class Weights {
    final MemorySegment tokenEmbedding; // [vocab, dim]
    final LayerWeights[] layers;
    final NormWeights outputNorm;       // null when the file has no output_norm.weight
    final MemorySegment classifier;     // [vocab, dim]; the embedding itself when tied

    /** Resolves and shape-checks every tensor the decoder needs; throws ModelFormatException if one is missing or misshapen. */
    public Weights(ModelFile file) {
        ModelConfig c = file.config();
        long dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
        boolean sandwich = c.norm().hasPostSublayerNorms();
        tokenEmbedding = file.tensor(TOKEN_EMBEDDING, vocab, dim).segment();
        layers = new LayerWeights[c.nLayers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new LayerWeights(
                    norm(file, block(l, ATTN_NORM), block(l, ATTN_NORM_BIAS)),
                    file.tensor(block(l, ATTN_Q), dim, dim).segment(),
                    file.tensor(block(l, ATTN_K), kvDim, dim).segment(),
                    file.tensor(block(l, ATTN_V), kvDim, dim).segment(),
                    file.tensor(block(l, ATTN_OUTPUT), dim, dim).segment(),
                    norm(file, block(l, FFN_NORM), block(l, FFN_NORM_BIAS)),
                    file.tensor(block(l, FFN_GATE), hidden, dim).segment(),
                    file.tensor(block(l, FFN_DOWN), dim, hidden).segment(),
                    file.tensor(block(l, FFN_UP), hidden, dim).segment(),
                    sandwich ? norm(file, block(l, POST_ATTN_NORM), block(l, POST_ATTN_NORM_BIAS)) : null,
                    sandwich ? norm(file, block(l, POST_FFN_NORM), block(l, POST_FFN_NORM_BIAS)) : null);
        }
        outputNorm = file.hasTensor(OUTPUT_NORM) ? norm(file, OUTPUT_NORM, OUTPUT_NORM_BIAS) : null;
        classifier = file.hasTensor(OUTPUT) ? file.tensor(OUTPUT, vocab, dim).segment() : tokenEmbedding;
    }

    /** A norm's weight, and its bias when the model's norm is a LayerNorm (the bias is then required). */
    private static NormWeights norm(ModelFile file, String weightName, String biasName) {
        ModelConfig c = file.config();
        MemorySegment weight = file.tensor(weightName, c.dim()).segment();
        MemorySegment bias = c.norm().hasBias() ? file.tensor(biasName, c.dim()).segment() : null;
        return new NormWeights(weight, bias);
    }
}
