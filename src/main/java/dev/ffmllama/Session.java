package dev.ffmllama;

import dev.ffmllama.engine.Inference;
import dev.ffmllama.engine.Sampler;
import dev.ffmllama.engine.Weights;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.kernels.SessionKernels;
import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tokenizer.Tokenizer;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

/**
 * One conversation with a {@link Model}: owns a KV cache and all activation buffers (allocated
 * once, off-heap), runs on the backend its {@link SessionOptions} name. Not thread-safe: use one
 * session per thread; sessions of one model may run concurrently.
 *
 * <p>Each {@link #generate} starts a new sequence at position 0. In steady state a generated
 * token costs no Java heap allocation (see {@link GenerationResult#allocatedBytes()}).
 */
public final class Session implements AutoCloseable {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final Model model;
    private final SessionOptions options;
    private final SessionKernels kernels; // owns the session's worker threads, if any
    private final Inference inference;
    private final int[] sequence; // BOS, prompt, generated: one more than the context (the last is not fed)
    private int length;           // tokens of the current sequence in `sequence`
    private boolean closed;

    Session(Model model, Weights weights, SessionOptions options) {
        this.model = model;
        this.options = options;
        ModelConfig c = model.config();
        int context = options.contextLength() == 0 ? c.contextLength() : options.contextLength();
        this.kernels = options.backend().kernels(options.threads());
        try {
            this.inference = new Inference(c, weights, kernels.kernels(), context, options.prefillBatch());
        } catch (RuntimeException | Error e) {
            kernels.close();
            throw e;
        }
        this.sequence = new int[context + 1];
    }

    public SessionOptions options() {
        return options;
    }

    /** Positions this session's KV cache holds. */
    public int contextLength() {
        return inference.contextLength();
    }

    /**
     * Encodes {@code prompt} (with BOS, as the model's tokenizer prescribes) and generates.
     *
     * @throws IllegalArgumentException if the prompt does not fit the context
     */
    public GenerationResult generate(String prompt, GenerationLimits limits, TokenListener listener) {
        Tokenizer tok = model.tokenizer();
        int[] ids = tok.encode(prompt, true, false);
        return generate(ids, limits, listener);
    }

    /**
     * Feeds {@code promptTokens} (normally starting with BOS) as one batched prefill, then samples
     * up to {@code limits.maxNewTokens()} tokens, calling {@code listener} for each.
     */
    public GenerationResult generate(int[] promptTokens, GenerationLimits limits, TokenListener listener) {
        ensureOpen();
        int prompt = promptTokens.length;
        if (prompt == 0) throw new IllegalArgumentException("the prompt has no tokens (not even BOS)");
        if (prompt > contextLength()) {
            throw new IllegalArgumentException("the prompt has " + prompt + " tokens but the context holds only "
                    + contextLength());
        }
        System.arraycopy(promptTokens, 0, sequence, 0, prompt);
        length = prompt;
        ModelConfig c = model.config();
        Tokenizer tok = model.tokenizer();
        Sampler sampler = new Sampler(c.vocabSize(), options.temperature(), options.topP(), options.topK(), options.seed());
        if (!model.acquire()) throw new IllegalStateException("model is closed");
        try {
            long t0 = System.nanoTime();
            inference.feed(sequence, 0, prompt, 0, true);
            long t1 = System.nanoTime();
            long alloc0 = THREADS.getCurrentThreadAllocatedBytes();

            int n = prompt;
            GenerationResult.StopReason reason = GenerationResult.StopReason.LIMIT;
            MemorySegment logits = inference.logits();
            for (int generated = 0; generated < limits.maxNewTokens(); generated++) {
                if (model.isClosed()) throw new IllegalStateException("model was closed during generation");
                int next = sampler.sample(logits, 0);
                if (limits.stopAtEndOfSequence() && (next == tok.bosId() || next == tok.eosId())) {
                    reason = GenerationResult.StopReason.END_OF_SEQUENCE;
                    break;
                }
                sequence[n++] = next;
                length = n;
                if (!listener.onToken(next, n - 1)) {
                    reason = GenerationResult.StopReason.LISTENER;
                    break;
                }
                if (generated + 1 == limits.maxNewTokens()) break;
                if (n - 1 >= contextLength()) {
                    reason = GenerationResult.StopReason.CONTEXT_FULL;
                    break;
                }
                inference.feed(sequence, n - 1, 1, n - 1, true);
            }
            long t2 = System.nanoTime();
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - alloc0;
            return new GenerationResult(java.util.Arrays.copyOf(sequence, n), prompt, reason, t1 - t0, t2 - t1, allocated);
        } finally {
            model.release();
        }
    }

    /**
     * The token at {@code position} of the current sequence (BOS, prompt or generated); in a
     * {@link TokenListener}, {@code tokenAt(position - 1)} is the token before the new one.
     */
    public int tokenAt(int position) {
        return sequence[java.util.Objects.checkIndex(position, length)];
    }

    /**
     * Logits after each token: row p of the result ({@code [tokens.length, vocab]}, float32) is what
     * the model predicts after seeing {@code tokens[0..p]} at positions {@code 0..p}. The caller
     * closes the returned tensor.
     */
    public Tensor logits(int[] tokens) {
        ensureOpen();
        if (tokens.length > contextLength()) {
            throw new IllegalArgumentException(tokens.length + " tokens do not fit the context of " + contextLength());
        }
        int vocab = model.config().vocabSize();
        Tensor out = Tensor.allocate(DType.F32, tokens.length, vocab);
        if (!model.acquire()) {
            out.close();
            throw new IllegalStateException("model is closed");
        }
        try {
            long rowBytes = (long) vocab * Float.BYTES;
            for (int from = 0; from < tokens.length; from += inference.maxBatch()) {
                int rows = Math.min(inference.maxBatch(), tokens.length - from);
                inference.feedAllLogits(tokens, from, rows, from);
                MemorySegment.copy(inference.logits(), 0, out.segment(), from * rowBytes, rows * rowBytes);
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            model.release();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("session is closed");
        model.ensureOpen();
    }

    /** Frees the KV cache and buffers and stops the session's worker threads. Idempotent. */
    @Override
    public void close() {
        closed = true;
        inference.close();
        kernels.close();
    }
}
