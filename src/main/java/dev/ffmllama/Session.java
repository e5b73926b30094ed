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
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One conversation with a {@link Model}: owns a KV cache and all activation buffers (allocated
 * once, off-heap), runs on the backend its {@link SessionOptions} name. One generation at a time:
 * use one session per thread (sessions of one model run concurrently and share its weights); a
 * second concurrent {@code generate}/{@code logits} on the same session, or one started from its
 * own listener, fails with {@link IllegalStateException} instead of corrupting the cache.
 *
 * <p>{@link #close()} is safe from any thread, also from a {@link TokenListener}: it waits for
 * the token being computed, frees the buffers, and the generation then fails with
 * {@link IllegalStateException}. Closing the model has the same effect.
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
    private final Sampler sampler; // reseeded per generation: its work arrays are allocated once
    private final int[] sequence; // BOS, prompt, generated: one more than the context (the last is not fed)
    private int length;           // tokens of the current sequence in `sequence`
    /** Entered around every step that touches the buffers; close() waits for it before freeing them. */
    private final UseGuard guard = new UseGuard();
    /** Set while a generate/logits call runs: one at a time per session. */
    private final AtomicBoolean busy = new AtomicBoolean();

    Session(Model model, Weights weights, SessionOptions options) {
        this.model = model;
        this.options = options;
        ModelConfig c = model.config();
        int context = options.contextLength() == 0 ? c.contextLength() : options.contextLength();
        this.sampler = new Sampler(c.vocabSize(), options.temperature(), options.topP(), options.topK(), options.seed());
        this.kernels = options.backend().kernels(options.threads());
        try {
            this.inference = new Inference(c, weights, kernels.kernels(), context, options.prefillBatch(),
                    options.layout());
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
        claim();
        try {
            System.arraycopy(promptTokens, 0, sequence, 0, prompt);
            length = prompt;
            ModelConfig c = model.config();
            Tokenizer tok = model.tokenizer();
            sampler.reseed();
            long t0 = System.nanoTime();
            int next = step(sampler, 0, prompt);
            long t1 = System.nanoTime();
            long alloc0 = THREADS.getCurrentThreadAllocatedBytes();

            int n = prompt;
            GenerationResult.StopReason reason = GenerationResult.StopReason.LIMIT;
            for (int generated = 0; generated < limits.maxNewTokens(); generated++) {
                if (limits.stopAtEndOfSequence() && (next == tok.bosId() || next == tok.eosId())) {
                    reason = GenerationResult.StopReason.END_OF_SEQUENCE;
                    break;
                }
                sequence[n++] = next;
                length = n;
                // The listener runs outside any step: it may close this session or the model.
                if (!listener.onToken(next, n - 1)) {
                    reason = GenerationResult.StopReason.LISTENER;
                    break;
                }
                if (generated + 1 == limits.maxNewTokens()) break;
                if (n - 1 >= contextLength()) {
                    reason = GenerationResult.StopReason.CONTEXT_FULL;
                    break;
                }
                next = step(sampler, n - 1, 1);
            }
            long t2 = System.nanoTime();
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - alloc0;
            return new GenerationResult(java.util.Arrays.copyOf(sequence, n), prompt, reason, t1 - t0, t2 - t1, allocated);
        } finally {
            busy.set(false);
        }
    }

    /**
     * One guarded step: feeds {@code count} tokens of the sequence from position {@code from} and
     * samples the next token, while neither this session's buffers nor the model's weights can be
     * freed.
     */
    private int step(Sampler sampler, int from, int count) {
        enterStep();
        try {
            inference.feed(sequence, from, count, from, true);
            return sampler.sample(inference.logits(), 0);
        } finally {
            exitStep();
        }
    }

    private void enterStep() {
        if (!guard.enter()) throw new IllegalStateException("session was closed during generation");
        if (!model.acquire()) {
            guard.exit();
            throw new IllegalStateException("model was closed during generation");
        }
    }

    private void exitStep() {
        model.release();
        guard.exit();
    }

    /** Marks the session busy for one generate/logits call; refuses a second concurrent one. */
    private void claim() {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("session is already generating (in another thread, or this call "
                    + "comes from its own listener); use one session per thread");
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
        claim();
        Tensor out = null;
        try {
            out = Tensor.allocate(DType.F32, tokens.length, vocab);
            enterStep();
            try {
                long rowBytes = (long) vocab * Float.BYTES;
                for (int from = 0; from < tokens.length; from += inference.maxBatch()) {
                    int rows = Math.min(inference.maxBatch(), tokens.length - from);
                    inference.feedAllLogits(tokens, from, rows, from);
                    MemorySegment.copy(inference.logits(), 0, out.segment(), from * rowBytes, rows * rowBytes);
                }
            } finally {
                exitStep();
            }
            return out;
        } catch (RuntimeException | Error e) {
            if (out != null) out.close();
            throw e;
        } finally {
            busy.set(false);
        }
    }

    private void ensureOpen() {
        if (guard.isClosed()) throw new IllegalStateException("session is closed");
        model.ensureOpen();
    }

    /**
     * Waits for the step being computed (if any) to finish, then frees the KV cache and buffers and
     * stops the session's worker threads; a generation in progress fails at its next step.
     * Idempotent; safe from any thread.
     */
    @Override
    public void close() {
        if (guard.closeAndAwait()) {
            inference.close();
            kernels.close();
        }
    }
}
