package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.kernels.Kernels;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * The mutable half of a model: a KV cache, the activation buffers and a decoder bound to one
 * backend. One per session; not thread-safe. Owns its off-heap memory (one arena, or huge-page slabs
 * with {@code hugepages=on}).
 */
public final class Inference implements AutoCloseable {
    private static final long PHYSICAL_MEMORY = ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    private final ModelConfig config;
    private final OffHeapMemory memory;
    private final RunState state;
    private final KvCache cache;
    private final Decoder decoder;
    private final int contextLength;

    /**
     * @param contextLength positions to hold (at most the model's context length)
     * @param maxBatch      tokens per forward pass at most (prefill chunk)
     */
    public Inference(ModelConfig config, Weights weights, Kernels kernels, int contextLength, int maxBatch) {
        this(config, weights, kernels, contextLength, maxBatch, Layout.defaults());
    }

    /**
     * @param layout the KV cache's order and element type, and whether the session's buffers use huge pages
     *               (its weight keys must be the defaults: they belong to the {@link Weights})
     */
    public Inference(ModelConfig config, Weights weights, Kernels kernels, int contextLength, int maxBatch,
                     Layout layout) {
        if (layout.hasWeightKeys()) {
            throw new IllegalArgumentException("layout " + layout + " has weight keys (qkv, ffn, matrix, align): "
                    + "those are the model's layout (LoadOptions.withLayout), not a session's");
        }
        if (contextLength < 1 || contextLength > config.contextLength()) {
            throw new IllegalArgumentException("context length " + contextLength + " must be between 1 and the model's "
                    + config.contextLength());
        }
        this.config = config;
        this.contextLength = contextLength;
        int batch = Math.min(maxBatch, contextLength);
        checkFitsInMemory(config, batch, contextLength, layout.kvType());
        this.memory = new OffHeapMemory(layout.hugePages());
        try {
            this.state = new RunState(memory, config, batch, contextLength, weights.fusedQkv(), weights.fusedFfn());
            this.cache = new KvCache(memory, config, contextLength, layout.kv(), layout.kvType());
        } catch (RuntimeException | OutOfMemoryError e) {
            memory.close();
            throw e;
        }
        this.decoder = new Decoder(config, weights, kernels);
    }

    /**
     * A model's context length is an unchecked number in its file (GGUF metadata), and the KV cache
     * grows with it: refuse, before allocating (and zeroing) anything, a session that would take
     * more than half the machine's physical memory, naming the way out.
     */
    private static void checkFitsInMemory(ModelConfig config, int batch, int contextLength, WeightType kvType) {
        long limit = PHYSICAL_MEMORY / 2;
        long bytes;
        try {
            bytes = Math.addExact(KvCache.bytes(config, contextLength, kvType), RunState.bytes(config, batch, contextLength));
        } catch (ArithmeticException e) {
            bytes = Long.MAX_VALUE;
        }
        if (bytes > limit) {
            throw new IllegalArgumentException("a session with context length " + contextLength + " needs "
                    + (bytes == Long.MAX_VALUE ? "more than 2^63" : Long.toString(bytes)) + " bytes of KV cache and "
                    + "buffers, more than half the physical memory (" + PHYSICAL_MEMORY + " bytes): choose a smaller "
                    + "context (SessionOptions.withContextLength)");
        }
    }

    public int contextLength() {
        return contextLength;
    }

    public int maxBatch() {
        return state.maxBatch;
    }

    /**
     * Feeds {@code count} tokens from {@code tokens[from..]} at positions {@code pos0..}, in chunks of
     * at most {@link #maxBatch()}. Afterwards {@link #logits()} row 0 holds the logits after the last
     * token when {@code wantLogits}. Token ids and positions are checked first.
     */
    public void feed(int[] tokens, int from, int count, int pos0, boolean wantLogits) {
        checkFeed(tokens, from, count, pos0);
        int done = 0;
        while (done < count) {
            int rows = Math.min(state.maxBatch, count - done);
            boolean last = done + rows == count;
            decoder.forward(tokens, from + done, rows, pos0 + done, state, cache,
                    last && wantLogits ? Decoder.Logits.LAST : Decoder.Logits.NONE);
            done += rows;
        }
    }

    /**
     * Feeds up to {@link #maxBatch()} tokens and computes the logits of every one of them:
     * row r of {@link #logits()} belongs to {@code tokens[from + r]}.
     */
    public void feedAllLogits(int[] tokens, int from, int rows, int pos0) {
        if (rows > state.maxBatch) throw new IllegalArgumentException(rows + " rows exceed the batch of " + state.maxBatch);
        checkFeed(tokens, from, rows, pos0);
        decoder.forward(tokens, from, rows, pos0, state, cache, Decoder.Logits.ALL);
    }

    /**
     * Attaches a probe that sees every activation of later forward passes ({@code inspect --stats});
     * null detaches it. Without one the decoder pays a null check per probe site.
     */
    public void probe(DecoderProbe probe) {
        decoder.probe(probe);
    }

    /** Logits buffer {@code [maxBatch, vocab]} of the last forward pass. */
    public MemorySegment logits() {
        return state.logits;
    }

    private void checkFeed(int[] tokens, int from, int count, int pos0) {
        if (!memory.isAlive()) throw new IllegalStateException("session is closed");
        if (count < 0 || from < 0 || from + count > tokens.length) {
            throw new IllegalArgumentException("token range " + from + "+" + count + " outside " + tokens.length + " tokens");
        }
        if (pos0 < 0 || (long) pos0 + count > contextLength) {
            throw new IllegalArgumentException("positions " + pos0 + ".." + (pos0 + count - 1) + " do not fit the context of "
                    + contextLength + " (context full)");
        }
        for (int i = from; i < from + count; i++) {
            int t = tokens[i];
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " at index " + i + " is out of range [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    /** Frees the KV cache and buffers. Idempotent. */
    @Override
    public void close() {
        memory.close();
    }
}
