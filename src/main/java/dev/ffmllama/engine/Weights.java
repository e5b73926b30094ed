package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.ModelFile;
import java.lang.foreign.MemorySegment;

/**
 * All tensors of a LLaMA-style model, resolved once at load time from a {@link ModelFile}: each is
 * checked against the config's shape, and kept as a segment view into the mapping (no copy), so
 * the forward pass never looks anything up or allocates.
 */
public final class Weights {
    final MemorySegment tokenEmbedding; // [vocab, dim]
    final LayerWeights[] layers;
    final MemorySegment outputNorm;     // [dim]
    final MemorySegment classifier;     // [vocab, dim]; the embedding itself when tied

    /** Resolves and shape-checks every tensor the decoder needs; throws ModelFormatException if one is missing or misshapen. */
    public Weights(ModelFile file) {
        ModelConfig c = file.config();
        long dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
        tokenEmbedding = file.tensor("token_embd.weight", vocab, dim).segment();
        layers = new LayerWeights[c.nLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "blk." + l + ".";
            layers[l] = new LayerWeights(
                    file.tensor(p + "attn_norm.weight", dim).segment(),
                    file.tensor(p + "attn_q.weight", dim, dim).segment(),
                    file.tensor(p + "attn_k.weight", kvDim, dim).segment(),
                    file.tensor(p + "attn_v.weight", kvDim, dim).segment(),
                    file.tensor(p + "attn_output.weight", dim, dim).segment(),
                    file.tensor(p + "ffn_norm.weight", dim).segment(),
                    file.tensor(p + "ffn_gate.weight", hidden, dim).segment(),
                    file.tensor(p + "ffn_down.weight", dim, hidden).segment(),
                    file.tensor(p + "ffn_up.weight", hidden, dim).segment());
        }
        outputNorm = file.tensor("output_norm.weight", dim).segment();
        classifier = file.hasTensor("output.weight")
                ? file.tensor("output.weight", vocab, dim).segment()
                : tokenEmbedding;
    }
}
