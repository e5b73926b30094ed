package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.kernels.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The Pre-RMSNorm LLaMA decoder, one forward pass over a batch of consecutive tokens. Reads top to
 * bottom like llama2.c's {@code forward()}, but for {@code rows} tokens at once (batched prefill:
 * every linear layer is one GEMM, every norm one row-batched call) and with the residual add fused
 * into the next norm. Allocation-free: all buffers live in {@link RunState} and {@link KvCache}.
 */
final class Decoder {
    private final ModelConfig c;
    private final Weights w;
    private final Kernels k;

    Decoder(ModelConfig config, Weights weights, Kernels kernels) {
        this.c = config;
        this.w = weights;
        this.k = kernels;
    }

    /** Which logits a forward pass computes. */
    enum Logits { NONE, LAST, ALL }

    /**
     * Feeds {@code rows} tokens ({@code tokens[from..from+rows)}) at positions {@code pos0..pos0+rows-1}.
     * With {@link Logits#LAST} the logits of the last token land in {@code s.logits} row 0; with
     * {@link Logits#ALL} row r holds the logits after token r. Callers check token ids and that
     * {@code pos0 + rows <= contextLength} and {@code rows <= s.maxBatch}.
     */
    void forward(int[] tokens, int from, int rows, int pos0, RunState s, KvCache cache, Logits logits) {
        final long dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim();
        final float eps = c.normEps(), theta = c.ropeTheta();
        final long rowBytes = dim * Float.BYTES;

        // token embeddings -> residual stream x [rows, dim]
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(w.tokenEmbedding, tokens[from + r] * rowBytes, s.x, r * rowBytes, rowBytes);
        }
        k.rmsnorm(s.x, w.layers[0].attnNorm(), s.xb, rows, dim, eps);

        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layers[l];
            // attention: xb holds attn_norm(x)
            k.matmul(lw.wq(), s.xb, s.q, rows, dim, dim);
            k.matmul(lw.wk(), s.xb, s.k, rows, dim, kvDim);
            k.matmul(lw.wv(), s.xb, s.v, rows, dim, kvDim);
            k.rope(s.q, rows, c.nHeads(), c.headSize(), pos0, theta);
            k.rope(s.k, rows, c.nKvHeads(), c.headSize(), pos0, theta);
            cache.store(l, s.k, s.v, pos0, rows);
            k.attention(s.q, cache.keys[l], cache.values[l], s.attnOut, s.scores, rows, pos0, c.nHeads(),
                    c.nKvHeads(), c.headSize());
            k.matmul(lw.wo(), s.attnOut, s.xb, rows, dim, dim);
            // x += attn; xb = ffn_norm(x)
            k.addRmsnorm(s.xb, s.x, lw.ffnNorm(), s.x, s.xb, rows, dim, eps);

            // SwiGLU feed-forward: w2(silu(w1 xb) * w3 xb)
            k.matmul(lw.ffnGate(), s.xb, s.hb, rows, dim, hidden);
            k.matmul(lw.ffnUp(), s.xb, s.hb2, rows, dim, hidden);
            k.siluMul(s.hb, s.hb2, s.hb, rows * hidden);
            k.matmul(lw.ffnDown(), s.hb, s.xb, rows, hidden, dim);
            // x += ffn; xb = next layer's attn_norm(x), or the final norm after the last layer
            MemorySegment nextNorm = l + 1 < c.nLayers() ? w.layers[l + 1].attnNorm() : w.outputNorm;
            k.addRmsnorm(s.xb, s.x, nextNorm, s.x, s.xb, rows, dim, eps);
        }

        switch (logits) {
            case NONE -> { }
            case ALL -> k.matmul(w.classifier, s.xb, s.logits, rows, dim, c.vocabSize());
            case LAST -> {
                MemorySegment last = s.xb;
                if (rows > 1) {
                    MemorySegment.copy(s.xb, (rows - 1) * rowBytes, s.lastRow, 0, rowBytes);
                    last = s.lastRow;
                }
                k.matmul(w.classifier, last, s.logits, 1, dim, c.vocabSize());
            }
        }
    }

    /** Reads logit {@code i} of row {@code row} after a forward pass. */
    static float logit(RunState s, int vocab, int row, int i) {
        return s.logits.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * vocab + i);
    }
}
