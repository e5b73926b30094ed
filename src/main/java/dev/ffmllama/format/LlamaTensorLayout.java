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

    private LlamaTensorLayout() {
    }

    /** The name of a per-block tensor, e.g. {@code block(3, ATTN_Q)} is {@code blk.3.attn_q.weight}. */
    public static String block(int layer, String suffix) {
        return "blk." + layer + "." + suffix;
    }

    /** Every tensor of the model with its shape, in a stable order; includes {@link #OUTPUT}. */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(TOKEN_EMBEDDING, new long[] {c.vocabSize(), c.dim()});
        Map<String, long[]> block = blockShapes(c);
        for (int l = 0; l < c.nLayers(); l++) {
            for (Map.Entry<String, long[]> e : block.entrySet()) shapes.put(block(l, e.getKey()), e.getValue().clone());
        }
        shapes.put(OUTPUT_NORM, new long[] {c.dim()});
        shapes.put(OUTPUT, new long[] {c.vocabSize(), c.dim()});
        return shapes;
    }

    /**
     * The tensors of one block by suffix ({@link #ATTN_NORM}...) with their shapes, in checkpoint
     * order. Lets a reader check block after block without a table as long as the (untrusted)
     * block count.
     */
    public static Map<String, long[]> blockShapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(ATTN_NORM, new long[] {c.dim()});
        shapes.put(ATTN_Q, new long[] {c.dim(), c.dim()});
        shapes.put(ATTN_K, new long[] {c.kvDim(), c.dim()});
        shapes.put(ATTN_V, new long[] {c.kvDim(), c.dim()});
        shapes.put(ATTN_OUTPUT, new long[] {c.dim(), c.dim()});
        shapes.put(FFN_NORM, new long[] {c.dim()});
        shapes.put(FFN_GATE, new long[] {c.hiddenDim(), c.dim()});
        shapes.put(FFN_DOWN, new long[] {c.dim(), c.hiddenDim()});
        shapes.put(FFN_UP, new long[] {c.hiddenDim(), c.dim()});
        return shapes;
    }
}
