package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.kernels.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The LLaMA-style decoder, one forward pass over a batch of consecutive tokens, for every norm
 * type and placement of {@link NormSpec}. Reads top to bottom like llama2.c's {@code forward()},
 * but for {@code rows} tokens at once (batched prefill: every linear layer is one GEMM, every norm
 * one row-batched call). Each placement has its own short layer loop; they share the attention and
 * feed-forward sublayers and {@link NormOps}, which maps every "add, then normalize" onto a fused
 * kernel. Allocation-free: all buffers live in {@link RunState} and {@link KvCache}.
 *
 * <p>Buffers: {@code s.x} holds the residual stream between blocks; {@code s.xb} a sublayer's
 * input or output; the post-norm placements keep the mid-block residual {@code h} in
 * {@code s.attnOut}, which is free once Wo has read it.
 */
final class Decoder {
    private final ModelConfig c;
    private final Weights w;
    private final Kernels k;
    private final NormOps norms;
    private final float alpha;
    private DecoderProbe probe; // null (no-op) unless statistics are being collected

    Decoder(ModelConfig config, Weights weights, Kernels kernels) {
        this.c = config;
        this.w = weights;
        this.k = kernels;
        this.norms = new NormOps(kernels, config.normType(), config.normEps(), config.dim());
        this.alpha = config.norm().alpha();
    }

    /** Attaches a probe that sees the activations of later forward passes; null detaches it. */
    void probe(DecoderProbe p) {
        this.probe = p;
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
        // token embeddings -> residual stream x [rows, dim]
        for (int r = 0; r < rows; r++) {
            w.tokenEmbedding.copyRow(tokens[from + r], s.x, r);
        }
        MemorySegment hidden = switch (c.normPlacement()) {
            case PRE, SANDWICH -> preNormLayers(rows, pos0, s, cache);
            case POST -> postNormLayers(rows, pos0, s, cache);
            case DEEPNORM -> deepNormLayers(rows, pos0, s, cache);
        };
        classify(hidden, rows, s, logits);
    }

    /**
     * Pre-norm: {@code h = x + Attn(N1(x)); out = h + FFN(N2(h))}. Sandwich additionally normalizes
     * each sublayer output before it joins the residual stream: {@code h = x + PN1(Attn(N1(x)))}.
     * Every residual add is fused with the norm that follows it (N2, the next block's N1, or the
     * final norm). Returns the buffer the classifier reads.
     */
    private MemorySegment preNormLayers(int rows, int pos0, RunState s, KvCache cache) {
        norms.apply(w.layers[0].attnNorm(), s.x, s.xb, rows);
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layers[l];
            observe(l, ProbeSite.BLOCK_INPUT, s.x, rows);
            observe(l, ProbeSite.ATTN_NORM_INPUT, s.x, rows);
            observe(l, ProbeSite.ATTN_NORM_OUTPUT, s.xb, rows);
            attention(l, s.xb, s.xb, rows, pos0, s, cache);
            observe(l, ProbeSite.ATTN_OUTPUT, s.xb, rows);
            sublayerOutputNorm(l, lw.postAttnNorm(), ProbeSite.POST_ATTN_NORM_OUTPUT, s.xb, rows);
            // x += attn; xb = N2(x)
            norms.addApply(lw.ffnNorm(), s.xb, s.x, s.x, s.xb, rows);
            observe(l, ProbeSite.FFN_NORM_INPUT, s.x, rows);
            observe(l, ProbeSite.FFN_NORM_OUTPUT, s.xb, rows);
            feedForward(lw, s.xb, s.xb, rows, s);
            observe(l, ProbeSite.FFN_OUTPUT, s.xb, rows);
            sublayerOutputNorm(l, lw.postFfnNorm(), ProbeSite.POST_FFN_NORM_OUTPUT, s.xb, rows);
            // x += ffn; xb = the next block's N1(x)
            if (l + 1 < c.nLayers()) norms.addApply(w.layers[l + 1].attnNorm(), s.xb, s.x, s.x, s.xb, rows);
        }
        // the last residual add, fused with the final norm when there is one
        if (w.outputNorm == null) {
            k.add(s.xb, s.x, s.x, (long) rows * c.dim());
            return s.x;
        }
        norms.addApply(w.outputNorm, s.xb, s.x, s.x, s.xb, rows);
        observe(c.nLayers(), ProbeSite.FINAL_NORM_INPUT, s.x, rows);
        observe(c.nLayers(), ProbeSite.FINAL_NORM_OUTPUT, s.xb, rows);
        return s.xb;
    }

    /** The sandwich's PN1/PN2, in place on a sublayer output; nothing for the other placements. */
    private void sublayerOutputNorm(int l, NormWeights n, ProbeSite site, MemorySegment out, int rows) {
        if (n == null) return;
        norms.apply(n, out, out, rows);
        observe(l, site, out, rows);
    }

    /** Post-norm: {@code h = N1(x + Attn(x)); out = N2(h + FFN(h))}, each add fused into its norm. */
    private MemorySegment postNormLayers(int rows, int pos0, RunState s, KvCache cache) {
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layers[l];
            observe(l, ProbeSite.BLOCK_INPUT, s.x, rows);
            attention(l, s.x, s.xb, rows, pos0, s, cache);
            observe(l, ProbeSite.ATTN_OUTPUT, s.xb, rows);
            // xb = x + attn (kept for the probe); h = N1(xb) -> attnOut
            norms.addApply(lw.attnNorm(), s.xb, s.x, s.xb, s.attnOut, rows);
            observe(l, ProbeSite.ATTN_NORM_INPUT, s.xb, rows);
            observe(l, ProbeSite.ATTN_NORM_OUTPUT, s.attnOut, rows);
            feedForward(lw, s.attnOut, s.xb, rows, s);
            observe(l, ProbeSite.FFN_OUTPUT, s.xb, rows);
            // xb = h + ffn; x = N2(xb)
            norms.addApply(lw.ffnNorm(), s.xb, s.attnOut, s.xb, s.x, rows);
            observe(l, ProbeSite.FFN_NORM_INPUT, s.xb, rows);
            observe(l, ProbeSite.FFN_NORM_OUTPUT, s.x, rows);
        }
        return finalNorm(rows, s);
    }

    /**
     * DeepNorm (DeepNet): {@code h = N1(α·x + Attn(x)); out = N2(α·h + FFN(h))}: Post-LN with the
     * residual up-weighted by α. The residual stream stays in {@code s.x}, normalized in place.
     */
    private MemorySegment deepNormLayers(int rows, int pos0, RunState s, KvCache cache) {
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layers[l];
            observe(l, ProbeSite.BLOCK_INPUT, s.x, rows);
            attention(l, s.x, s.xb, rows, pos0, s, cache);
            observe(l, ProbeSite.ATTN_OUTPUT, s.xb, rows);
            if (probe != null) probe.observeScaledSum(l, ProbeSite.ATTN_NORM_INPUT, alpha, s.x, s.xb, rows, c.dim());
            norms.scaledAddApply(lw.attnNorm(), alpha, s.x, s.xb, s.x, rows);
            observe(l, ProbeSite.ATTN_NORM_OUTPUT, s.x, rows);
            feedForward(lw, s.x, s.xb, rows, s);
            observe(l, ProbeSite.FFN_OUTPUT, s.xb, rows);
            if (probe != null) probe.observeScaledSum(l, ProbeSite.FFN_NORM_INPUT, alpha, s.x, s.xb, rows, c.dim());
            norms.scaledAddApply(lw.ffnNorm(), alpha, s.x, s.xb, s.x, rows);
            observe(l, ProbeSite.FFN_NORM_OUTPUT, s.x, rows);
        }
        return finalNorm(rows, s);
    }

    /** xb = output_norm(x) when the model has a final norm (post-norm placements); returns the classifier input. */
    private MemorySegment finalNorm(int rows, RunState s) {
        if (w.outputNorm == null) return s.x;
        norms.apply(w.outputNorm, s.x, s.xb, rows);
        observe(c.nLayers(), ProbeSite.FINAL_NORM_INPUT, s.x, rows);
        observe(c.nLayers(), ProbeSite.FINAL_NORM_OUTPUT, s.xb, rows);
        return s.xb;
    }

    /** out = Wo · attention(RoPE(Wq in), RoPE(Wk in), Wv in), filling the KV cache; out may alias in. */
    private void attention(int l, MemorySegment in, MemorySegment out, int rows, int pos0, RunState s, KvCache cache) {
        LayerWeights lw = w.layers[l];
        MemorySegment q = s.q, key = s.k, value = s.v;
        if (lw.wqkv() == null) {
            lw.wq().apply(k, in, s.q, rows);
            lw.wk().apply(k, in, s.k, rows);
            lw.wv().apply(k, in, s.v, rows);
        } else { // qkv=fused: one matmul; q, k, v are column ranges of its output rows
            long dim = c.dim(), kvDim = c.kvDim();
            lw.wqkv().apply(k, in, s.qkv, rows);
            if (rows == 1) {
                q = s.qkvQ;
                key = s.qkvK;
                value = s.qkvV;
            } else { // the kernels below take contiguous [rows, width] operands
                splitColumns(s.qkv, rows, dim + 2 * kvDim, 0, dim, s.q);
                splitColumns(s.qkv, rows, dim + 2 * kvDim, dim, kvDim, s.k);
                splitColumns(s.qkv, rows, dim + 2 * kvDim, dim + kvDim, kvDim, s.v);
            }
        }
        k.rope(q, rows, c.nHeads(), c.headSize(), pos0, c.ropeTheta());
        k.rope(key, rows, c.nKvHeads(), c.headSize(), pos0, c.ropeTheta());
        cache.store(l, key, value, pos0, rows);
        k.attention(cache.order, cache.type, q, cache.keys[l], cache.values[l], s.attnOut, s.scores, rows, pos0,
                c.nHeads(), c.nKvHeads(), c.headSize(), cache.contextLength);
        lw.wo().apply(k, s.attnOut, out, rows);
    }

    /** SwiGLU feed-forward: out = W2(silu(W1 in) * W3 in); out may alias in. */
    private void feedForward(LayerWeights lw, MemorySegment in, MemorySegment out, int rows, RunState s) {
        MemorySegment gate = s.hb, up = s.hb2;
        if (lw.ffnGateUp() == null) {
            lw.ffnGate().apply(k, in, s.hb, rows);
            lw.ffnUp().apply(k, in, s.hb2, rows);
        } else { // ffn=fused: one matmul; gate and up are the two halves of its output rows
            long hidden = c.hiddenDim();
            lw.ffnGateUp().apply(k, in, s.gateUp, rows);
            if (rows == 1) {
                gate = s.gateUpGate;
                up = s.gateUpUp;
            } else {
                splitColumns(s.gateUp, rows, 2 * hidden, 0, hidden, s.hb);
                splitColumns(s.gateUp, rows, 2 * hidden, hidden, hidden, s.hb2);
            }
        }
        k.siluMul(gate, up, s.hb, rows * c.hiddenDim());
        lw.ffnDown().apply(k, s.hb, out, rows);
    }

    /**
     * Copies columns {@code [from, from + width)} of every row of {@code src [rows, srcWidth]} into
     * {@code dst [rows, width]}: a fused matmul's outputs made contiguous for a batch (a copy of
     * {@code rows * width} floats, small next to the matmul that produced them).
     */
    private static void splitColumns(MemorySegment src, int rows, long srcWidth, long from, long width,
                                     MemorySegment dst) {
        for (long r = 0; r < rows; r++) {
            MemorySegment.copy(src, (r * srcWidth + from) * Float.BYTES, dst, r * width * Float.BYTES,
                    width * Float.BYTES);
        }
    }

    private void classify(MemorySegment hidden, int rows, RunState s, Logits logits) {
        long dim = c.dim();
        switch (logits) {
            case NONE -> { }
            case ALL -> w.classifier.apply(k, hidden, s.logits, rows);
            case LAST -> {
                MemorySegment last = hidden;
                if (rows > 1) {
                    long rowBytes = dim * Float.BYTES;
                    MemorySegment.copy(hidden, (rows - 1) * rowBytes, s.lastRow, 0, rowBytes);
                    last = s.lastRow;
                }
                w.classifier.apply(k, last, s.logits, 1);
            }
        }
    }

    private void observe(int layer, ProbeSite site, MemorySegment values, int rows) {
        if (probe != null) probe.observe(layer, site, values, rows, c.dim());
    }

    /** Reads logit {@code i} of row {@code row} after a forward pass. */
    static float logit(RunState s, int vocab, int row, int i) {
        return s.logits.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * vocab + i);
    }
}
