package dev.ffmllama.format;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names and row-major shapes of the tensors of a llama decoder, as {@link ModelFile} reports them
 * (GGUF names). Both file formats check their tensors against this table when they open, and the
 * engine can use it to request each tensor with its expected shape.
 */
public final class LlamaTensorLayout {
    public static final String TOKEN_EMBEDDING = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";
    /** LayerNorm bias of the final norm (LayerNorm models only). */
    public static final String OUTPUT_NORM_BIAS = "output_norm.bias";

    /** Per-block tensor suffixes, in llama2.c checkpoint order. */
    public static final String ATTN_NORM = "attn_norm.weight";
    public static final String ATTN_Q = "attn_q.weight";
    public static final String ATTN_K = "attn_k.weight";
    public static final String ATTN_V = "attn_v.weight";
    public static final String ATTN_OUTPUT = "attn_output.weight";
    public static final String FFN_NORM = "ffn_norm.weight";
    public static final String FFN_GATE = "ffn_gate.weight";
    public static final String FFN_DOWN = "ffn_down.weight";
    public static final String FFN_UP = "ffn_up.weight";
    /** LayerNorm biases of the block norms (LayerNorm models only). */
    public static final String ATTN_NORM_BIAS = "attn_norm.bias";
    public static final String FFN_NORM_BIAS = "ffn_norm.bias";
    /** The sandwich placement's norms of the sublayer outputs (llama.cpp's Gemma-2 names), and their biases. */
    public static final String POST_ATTN_NORM = "post_attention_norm.weight";
    public static final String POST_FFN_NORM = "post_ffw_norm.weight";
    public static final String POST_ATTN_NORM_BIAS = "post_attention_norm.bias";
    public static final String POST_FFN_NORM_BIAS = "post_ffw_norm.bias";

    private LlamaTensorLayout() {
    }

    /** The name of a per-block tensor, e.g. {@code block(3, ATTN_Q)} is {@code blk.3.attn_q.weight}. */
    public static String block(int layer, String suffix) {
        return "blk." + layer + "." + suffix;
    }

    /**
     * Every tensor of the model with its shape, in a stable order; includes {@link #OUTPUT} and
     * {@link #OUTPUT_NORM} (see {@link #isOptional}), and the biases and extra norms the config's
     * {@link NormSpec} implies.
     */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        NormSpec norm = c.norm();
        long[] vector = {c.dim()};
        shapes.put(TOKEN_EMBEDDING, new long[] {c.vocabSize(), c.dim()});
        Map<String, long[]> block = blockShapes(c);
        for (int l = 0; l < c.nLayers(); l++) {
            for (Map.Entry<String, long[]> e : block.entrySet()) shapes.put(block(l, e.getKey()), e.getValue().clone());
        }
        shapes.put(OUTPUT_NORM, vector);
        if (norm.hasBias()) shapes.put(OUTPUT_NORM_BIAS, vector);
        shapes.put(OUTPUT, new long[] {c.vocabSize(), c.dim()});
        return shapes;
    }

    /**
     * The tensors of one block by suffix ({@link #ATTN_NORM}...) with their shapes, in checkpoint
     * order, including the biases and extra norms the config's {@link NormSpec} implies. Lets a
     * reader check block after block without a table as long as the (untrusted) block count.
     */
    public static Map<String, long[]> blockShapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        NormSpec norm = c.norm();
        long[] vector = {c.dim()};
        shapes.put(ATTN_NORM, vector);
        if (norm.hasBias()) shapes.put(ATTN_NORM_BIAS, vector);
        shapes.put(ATTN_Q, new long[] {c.dim(), c.dim()});
        shapes.put(ATTN_K, new long[] {c.kvDim(), c.dim()});
        shapes.put(ATTN_V, new long[] {c.kvDim(), c.dim()});
        shapes.put(ATTN_OUTPUT, new long[] {c.dim(), c.dim()});
        shapes.put(FFN_NORM, vector);
        if (norm.hasBias()) shapes.put(FFN_NORM_BIAS, vector);
        shapes.put(FFN_GATE, new long[] {c.hiddenDim(), c.dim()});
        shapes.put(FFN_DOWN, new long[] {c.dim(), c.hiddenDim()});
        shapes.put(FFN_UP, new long[] {c.hiddenDim(), c.dim()});
        if (norm.hasPostSublayerNorms()) {
            shapes.put(POST_ATTN_NORM, vector);
            if (norm.hasBias()) shapes.put(POST_ATTN_NORM_BIAS, vector);
            shapes.put(POST_FFN_NORM, vector);
            if (norm.hasBias()) shapes.put(POST_FFN_NORM_BIAS, vector);
        }
        return shapes;
    }

    /**
     * Tensors a file may leave out: the classifier (tied to the embedding) and the final norm (the
     * logits then read the last hidden state directly, as in a Post-LN model without a final norm).
     */
    public static boolean isOptional(String name) {
        return name.equals(OUTPUT) || name.equals(OUTPUT_NORM) || name.equals(OUTPUT_NORM_BIAS);
    }
}
