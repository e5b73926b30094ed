package dev.ffmllama.kernels;

import dev.ffmllama.bindings.kernels.ffmllama_h;
import dev.ffmllama.bindings.kernels.ffmllama_quant_h;
import dev.ffmllama.blas.Blas;
import dev.ffmllama.blas.SubViews;
import dev.ffmllama.nativelib.NativeLibrary;
import dev.ffmllama.nativelib.NativeLibraryException;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@link Backend#NATIVE}: our C kernels ({@code libffmllama.so}, see {@code native/include/ffmllama.h})
 * through the jextract bindings, linear layers through {@link Blas} (OpenBLAS).
 *
 * <p>This class validates nothing: it is only ever created by {@link Backend}, which wraps it in
 * {@link CheckedKernels}, so every argument has been checked before a native call is made.
 *
 * <p>The C kernels are short (bounded by the data they are given), never block, never call back into
 * Java and never keep a pointer after returning, so they are called through <em>critical</em> downcall
 * handles ({@code Linker.Option.critical(false)}: no thread-state transition, off-heap memory only).
 * jextract cannot emit linker options, so {@link Downcalls} builds those handles from the generated
 * {@code ffm_x$address()} and {@code ffm_x$descriptor()}; it is the one place that does. OpenBLAS
 * calls stay regular downcalls (long-running, multi-threaded). Nothing here allocates per call.
 *
 * <p>Typed-weight linear layers ({@code ffmllama_quant.h}) run our own C kernels, not OpenBLAS. Their
 * one-row (decode) calls are critical too: a matvec streams at most the one weight matrix (a few ms
 * for a 32000-row classifier), the same order as other short kernels. Several-row (prefill) calls
 * can run for tens or hundreds of milliseconds, and a critical call holds off every GC safepoint for
 * its whole duration, so those go through a regular downcall handle (its thread-state transition
 * costs well under a microsecond, nothing next to the call).
 *
 * <p><b>Opt-in Q8_0 activations.</b> With {@code -Dffmllama.q8.activations=true} (or the environment
 * variable {@code FFM_LLAMA_Q8_ACTIVATIONS=1}), Q8_0 and Q4_0 matmuls first round x to Q8_0 blocks
 * ({@code ffm_quantize_rows_q8_0}, rounding as llama.cpp's CPU code) and then multiply with int8 dot products
 * ({@code ffm_matmul_q8act_cols}: VNNI where the CPU has it) — llama.cpp's CPU scheme: faster, but x is
 * rounded to ~2.5 significant digits per block of 32, so logits move by ~0.1-0.3 on tiny models. The
 * default stays the exact float32-activation path. The quantized x goes into a per-thread scratch
 * segment that is allocated on a thread's first such call and replaced only when a larger call comes
 * (both one-time events; steady-state decoding allocates nothing); a split matmul quantizes x once on the
 * calling thread and every worker reads that one copy.
 */
final class NativeKernels implements Kernels {
    /** System property (or env {@code FFM_LLAMA_Q8_ACTIVATIONS=1}) turning on Q8_0 activations. */
    static final String Q8_ACTIVATIONS_PROPERTY = "ffmllama.q8.activations";
    /** Whether Q8_0 / Q4_0 matmuls quantize x to Q8_0 first; read per call (a plain load on x86). */
    private static volatile boolean q8Activations = Boolean.getBoolean(Q8_ACTIVATIONS_PROPERTY)
            || "1".equals(System.getenv("FFM_LLAMA_Q8_ACTIVATIONS"));
    /** This thread's Q8_0 copy of x (see the class comment); grows, never shrinks. */
    private static final ThreadLocal<QuantizedActivations> Q8_SCRATCH =
            ThreadLocal.withInitial(QuantizedActivations::new);

    private final Blas blas;
    /**
     * OpenBLAS threads for F32 linear layers that do not run on the pool: every one with
     * {@code f32Threads=openblas}, else only those on segments the pool's threads cannot access.
     */
    private final int blasThreads;
    /** Splits typed-weight (F16/BF16/Q8_0/Q4_0) matmuls over JVM threads; null for one thread. */
    private final MatmulSplit typedSplit;
    /** The same split for F32 matmuls (single-threaded OpenBLAS calls), or null (one thread, or f32Threads=openblas). */
    private final MatmulSplit f32Split;
    private final AttentionSplit attentionSplit;
    /**
     * Whether this session's last linear layer ran on several OpenBLAS threads (only with
     * {@code f32Threads=openblas}). OpenBLAS's threads spin for a while after each call, so waking our own
     * pool for the attention that follows would put three spinning threads on two cores: measured,
     * stories110M F32 decode at 2 threads fell from 117 to 41 tok/s. Attention is split only after
     * matmuls that ran on our pool. One session is single-threaded, so a plain field.
     */
    private boolean blasThreadsActive;

    NativeKernels() {
        this(1, null);
    }

    /**
     * @param blasThreads OpenBLAS threads for F32 {@link #matmul} calls that do not run on {@code pool}
     * @param pool        JVM threads that split every matmul (F32: single-threaded OpenBLAS calls on blocks;
     *                    typed weights: our C kernels by output rows) and attention, or null
     */
    NativeKernels(int blasThreads, WorkerPool pool) {
        if (blasThreads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + blasThreads);
        this.blasThreads = blasThreads;
        this.typedSplit = pool == null || pool.threads() == 1 ? null : new MatmulSplit(pool, null);
        this.attentionSplit = pool == null || pool.threads() == 1 ? null : new AttentionSplit(pool);
        NativeLibrary library = NativeLibrary.load(); // throws a clear NativeLibraryException on failure
        this.blas = Blas.get();
        this.f32Split = pool == null || pool.threads() == 1 || !F32_THREADS_FROM_POOL ? null
                : new MatmulSplit(pool, blas);
        try {
            Downcalls.initialize();
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new NativeLibraryException(library.path() + " lacks a function declared in ffmllama.h (" + cause
                    + "): the library and the bindings are out of step; rebuild with mvn package.", e);
        }
    }

    /**
     * Critical downcall handles for every C kernel, in static finals so the JIT treats them as
     * constants. Initialized only after {@link NativeLibrary#load()} has succeeded.
     */
    private static final class Downcalls {
        static final MethodHandle NOOP = critical(ffmllama_h.ffm_noop$address(), ffmllama_h.ffm_noop$descriptor());
        static final MethodHandle RMSNORM =
                critical(ffmllama_h.ffm_rmsnorm$address(), ffmllama_h.ffm_rmsnorm$descriptor());
        static final MethodHandle RMSNORM_GEMMA =
                critical(ffmllama_h.ffm_rmsnorm_gemma$address(), ffmllama_h.ffm_rmsnorm_gemma$descriptor());
        static final MethodHandle LAYERNORM =
                critical(ffmllama_h.ffm_layernorm$address(), ffmllama_h.ffm_layernorm$descriptor());
        static final MethodHandle ADD_RMSNORM =
                critical(ffmllama_h.ffm_add_rmsnorm$address(), ffmllama_h.ffm_add_rmsnorm$descriptor());
        static final MethodHandle ADD_LAYERNORM =
                critical(ffmllama_h.ffm_add_layernorm$address(), ffmllama_h.ffm_add_layernorm$descriptor());
        static final MethodHandle DEEPNORM =
                critical(ffmllama_h.ffm_deepnorm$address(), ffmllama_h.ffm_deepnorm$descriptor());
        static final MethodHandle BATCHNORM_INFER =
                critical(ffmllama_h.ffm_batchnorm_infer$address(), ffmllama_h.ffm_batchnorm_infer$descriptor());
        static final MethodHandle BATCHNORM_TRAIN =
                critical(ffmllama_h.ffm_batchnorm_train$address(), ffmllama_h.ffm_batchnorm_train$descriptor());
        static final MethodHandle SOFTMAX =
                critical(ffmllama_h.ffm_softmax$address(), ffmllama_h.ffm_softmax$descriptor());
        static final MethodHandle ROPE = critical(ffmllama_h.ffm_rope$address(), ffmllama_h.ffm_rope$descriptor());
        static final MethodHandle SILU_MUL =
                critical(ffmllama_h.ffm_silu_mul$address(), ffmllama_h.ffm_silu_mul$descriptor());
        static final MethodHandle ADD = critical(ffmllama_h.ffm_add$address(), ffmllama_h.ffm_add$descriptor());
        static final MethodHandle ATTENTION =
                critical(ffmllama_h.ffm_attention$address(), ffmllama_h.ffm_attention$descriptor());
        static final MethodHandle ATTENTION_KV_HEADS = critical(ffmllama_h.ffm_attention_kv_heads$address(),
                ffmllama_h.ffm_attention_kv_heads$descriptor());
        /** Typed matmul, one x row (decode): short, critical. */
        static final MethodHandle TYPED_MATVEC = critical(ffmllama_quant_h.ffm_matmul_typed_cols$address(),
                ffmllama_quant_h.ffm_matmul_typed_cols$descriptor());
        /** Typed matmul, several x rows (prefill): may be long, so a regular downcall (GC can proceed). */
        static final MethodHandle TYPED_MATMUL = regular(ffmllama_quant_h.ffm_matmul_typed_cols$address(),
                ffmllama_quant_h.ffm_matmul_typed_cols$descriptor());
        /** x -> Q8_0 blocks (opt-in Q8_0 activations); linear in rows * in and fast, so critical. */
        static final MethodHandle QUANTIZE_Q8_0 = critical(ffmllama_quant_h.ffm_quantize_rows_q8_0$address(),
                ffmllama_quant_h.ffm_quantize_rows_q8_0$descriptor());
        /** Q8_0 / Q4_0 weights times Q8_0 x: critical for one row, regular for several (as above). */
        static final MethodHandle Q8ACT_MATVEC = critical(ffmllama_quant_h.ffm_matmul_q8act_cols$address(),
                ffmllama_quant_h.ffm_matmul_q8act_cols$descriptor());
        static final MethodHandle Q8ACT_MATMUL = regular(ffmllama_quant_h.ffm_matmul_q8act_cols$address(),
                ffmllama_quant_h.ffm_matmul_q8act_cols$descriptor());

        private Downcalls() {
        }

        /** Forces class initialization (and so the symbol lookups) at backend creation time. */
        static void initialize() {
        }

        // Restricted (it can crash the JVM if the descriptor is wrong): the descriptors come from jextract.
        @SuppressWarnings("restricted")
        private static MethodHandle critical(MemorySegment address, FunctionDescriptor descriptor) {
            return Linker.nativeLinker().downcallHandle(address, descriptor, Linker.Option.critical(false));
        }

        @SuppressWarnings("restricted")
        private static MethodHandle regular(MemorySegment address, FunctionDescriptor descriptor) {
            return Linker.nativeLinker().downcallHandle(address, descriptor);
        }
    }

    @Override
    public Backend backend() {
        return Backend.NATIVE;
    }

    /** One critical downcall that does nothing: measures the fixed cost of calling a kernel. */
    void noop() {
        try {
            Downcalls.NOOP.invokeExact();
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void rmsnorm(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) {
        try {
            Downcalls.RMSNORM.invokeExact(x, w, y, rows, d, eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void rmsnormGemma(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) {
        try {
            Downcalls.RMSNORM_GEMMA.invokeExact(x, w, y, rows, d, eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void layernorm(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d,
                          float eps) {
        try {
            Downcalls.LAYERNORM.invokeExact(x, orNull(w), orNull(b), y, rows, d, eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void addRmsnorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment rOut,
                           MemorySegment y, long rows, long d, float eps) {
        try {
            Downcalls.ADD_RMSNORM.invokeExact(x, residual, w, rOut, y, rows, d, eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void addLayernorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment b,
                             MemorySegment rOut, MemorySegment y, long rows, long d, float eps) {
        try {
            Downcalls.ADD_LAYERNORM.invokeExact(x, residual, orNull(w), orNull(b), rOut, y, rows, d, eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void deepnorm(MemorySegment x, MemorySegment f, float alpha, MemorySegment w, MemorySegment b,
                         MemorySegment y, long rows, long d, float eps) {
        try {
            Downcalls.DEEPNORM.invokeExact(x, f, alpha, orNull(w), orNull(b), y, rows, d, eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void batchnormInfer(MemorySegment x, MemorySegment runningMean, MemorySegment runningVar,
                               MemorySegment gamma, MemorySegment beta, MemorySegment y, long rows, long d,
                               float eps) {
        try {
            Downcalls.BATCHNORM_INFER.invokeExact(x, runningMean, runningVar, orNull(gamma), orNull(beta), y, rows, d,
                    eps);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void batchnormTrain(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runningMean,
                               MemorySegment runningVar, MemorySegment y, long rows, long d, float eps,
                               float momentum) {
        try {
            Downcalls.BATCHNORM_TRAIN.invokeExact(x, orNull(gamma), orNull(beta), runningMean, runningVar, y, rows, d,
                    eps, momentum);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void softmax(MemorySegment x, MemorySegment y, long rows, long d) {
        try {
            Downcalls.SOFTMAX.invokeExact(x, y, rows, d);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void rope(MemorySegment x, long rows, long nHeads, long headSize, long pos0, float theta) {
        try {
            Downcalls.ROPE.invokeExact(x, rows, nHeads, headSize, pos0, theta);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long n) {
        try {
            Downcalls.SILU_MUL.invokeExact(gate, up, out, n);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        try {
            Downcalls.ADD.invokeExact(a, b, out, n);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void attention(MemorySegment q, MemorySegment kCache, MemorySegment vCache, MemorySegment out,
                          MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads, long headSize) {
        try {
            Downcalls.ATTENTION.invokeExact(q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    @Override
    public void attention(KvOrder order, WeightType kvType, MemorySegment q, MemorySegment kCache,
                          MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows, long pos0,
                          long nHeads, long nKvHeads, long headSize, long capacity) {
        int type = switch (kvType) {
            case F32 -> ffmllama_h.FFM_KV_F32();
            case F16 -> ffmllama_h.FFM_KV_F16();
            default -> throw new IllegalArgumentException("a KV cache holds F32 or F16, not " + kvType);
        };
        int layout = switch (order) {
            case TOKEN_MAJOR -> ffmllama_h.FFM_KV_TOKEN_MAJOR();
            case HEAD_MAJOR -> ffmllama_h.FFM_KV_HEAD_MAJOR();
        };
        if (attentionSplit != null && !blasThreadsActive && attentionSplit.run(layout, type, q, kCache, vCache, out, scratch, rows, pos0,
                nHeads, nKvHeads, headSize, capacity)) {
            return;
        }
        attentionKvHeads(layout, type, q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize,
                capacity, 0, nKvHeads);
    }

    /** Attention for the query heads of kv heads {@code [kvFrom, kvTo)} only (one downcall). */
    private static void attentionKvHeads(int layout, int type, MemorySegment q, MemorySegment kCache,
                                         MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows,
                                         long pos0, long nHeads, long nKvHeads, long headSize, long capacity,
                                         long kvFrom, long kvTo) {
        int status;
        try {
            status = (int) Downcalls.ATTENTION_KV_HEADS.invokeExact(q, kCache, vCache, out, scratch, rows, pos0,
                    nHeads, nKvHeads, headSize, capacity, layout, type, kvFrom, kvTo);
        } catch (Throwable t) {
            throw propagate(t);
        }
        if (status != 0) {
            throw new IllegalStateException("the native library has no attention for KV order " + layout + ", type "
                    + type + ", kv heads [" + kvFrom + ", " + kvTo + ")");
        }
    }

    /**
     * Where a multi-threaded session's F32 linear layers get their threads. By default from the session's
     * pool ({@link MatmulSplit}): each thread makes one single-threaded OpenBLAS call on its share — for
     * one row (decode) an {@code sgemv}, for a batch (prefill) an {@code sgemm} on a block of output
     * columns. With {@code -Dffmllama.f32Threads=openblas}, one call on OpenBLAS's own threads instead.
     * OpenBLAS synchronizes its pool on every call, which small matrices cannot pay for. Measured on Zen 5,
     * alternating runs under quiet-run, 2 threads: stories15M decode 851–903 → 971–1027 tok/s (with the
     * split by inputs), pp128 6640–9106 → 9938–11161; stories110M pp128 952–1119 → 1101–1210. Zen 3, decode
     * only: stories15M 247–294 → 324–388.
     */
    static final boolean F32_THREADS_FROM_POOL =
            !"openblas".equals(System.getProperty("ffmllama.f32Threads",
                    System.getProperty("ffmllama.decodeSplit", "pool"))); // the older name still works

    @Override
    public void matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        if (f32Split != null && f32Split.run(WeightType.F32, w, x, y, rows, in, out, false)) {
            blasThreadsActive = false;
            return;
        }
        useOpenBlasThreadsFor(rows, in, out);
        blas.linear(w, x, y, rows, in, out);
    }

    @Override
    public void matmulTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        if (f32Split != null && (rows == 1 ? f32Split.runTransposed(wt, x, y, in, out)
                : f32Split.runOutputs(wt, x, y, rows, in, out))) {
            blasThreadsActive = false;
            return;
        }
        useOpenBlasThreadsFor(rows, in, out);
        blas.linearTransposed(wt, x, y, rows, in, out);
    }

    /**
     * Sets OpenBLAS's thread count for an F32 call that the pool did not take. Without a pool split (one
     * thread, or {@code f32Threads=openblas}): this session's count. With one: a call too small to split
     * stays on the caller alone; a large one (on segments the pool's threads cannot access, a confined
     * arena's) gets OpenBLAS's threads. OpenBLAS's count is process-wide: sessions with different counts
     * each set theirs (a cached comparison, no downcall, when it is already in force).
     */
    private void useOpenBlasThreadsFor(long rows, long in, long out) {
        int threads = f32Split != null && !ParallelRanges.worthSplittingMatmul(rows, in, out) ? 1 : blasThreads;
        blas.useThreads(threads);
        blasThreadsActive = threads > 1;
    }

    @Override
    public void matmul(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                       long out) {
        if (type == WeightType.F32) {
            matmul(w, x, y, rows, in, out);
            return;
        }
        blasThreadsActive = false;
        if (q8Activations && (type == WeightType.Q8_0 || type == WeightType.Q4_0)) {
            MemorySegment xq = quantizeActivations(x, rows, in);
            if (typedSplit != null && typedSplit.run(type, w, xq, y, rows, in, out, true)) return;
            q8ActMatmulColumns(type, w, xq, y, rows, in, out, 0, out);
            return;
        }
        if (typedSplit != null && typedSplit.run(type, w, x, y, rows, in, out, false)) return;
        typedMatmulColumns(type, w, x, y, rows, in, out, 0, out);
    }

    /** Turns opt-in Q8_0 activations on or off for every NativeKernels (tests; the default comes from the property). */
    static void useQ8Activations(boolean enabled) {
        q8Activations = enabled;
    }

    static boolean q8Activations() {
        return q8Activations;
    }

    /** x [rows, in] rounded to Q8_0 blocks at the start of this thread's scratch (valid until its next call). */
    private static MemorySegment quantizeActivations(MemorySegment x, long rows, long in) {
        long bytes = WeightType.Q8_0.byteSize(rows, in);
        MemorySegment xq = Q8_SCRATCH.get().atLeast(bytes);
        try {
            Downcalls.QUANTIZE_Q8_0.invokeExact(x, xq, rows * in);
        } catch (Throwable t) {
            throw propagate(t);
        }
        return xq;
    }

    /** Q8_0 / Q4_0 weights times the Q8_0 x for outputs {@code [from, to)} only (one downcall). */
    private static void q8ActMatmulColumns(WeightType type, MemorySegment w, MemorySegment xq, MemorySegment y,
                                           long rows, long in, long out, long from, long to) {
        int status;
        try {
            status = rows == 1
                    ? (int) Downcalls.Q8ACT_MATVEC.invokeExact(type.ggmlId(), w, xq, y, rows, in, out, from, to)
                    : (int) Downcalls.Q8ACT_MATMUL.invokeExact(type.ggmlId(), w, xq, y, rows, in, out, from, to);
        } catch (Throwable t) {
            throw propagate(t);
        }
        if (status != 0) throw new IllegalStateException("the native library has no Q8_0-activation " + type + " matmul");
    }

    /**
     * One thread's Q8_0 x buffer: an automatic-arena segment (readable by the pool's workers, freed with
     * the thread's ThreadLocal), replaced by a larger one when a call needs more.
     */
    private static final class QuantizedActivations {
        private MemorySegment buffer = MemorySegment.NULL;

        /** The whole buffer, at least {@code bytes} long (no slice: that would be an allocation per call). */
        MemorySegment atLeast(long bytes) {
            if (buffer.byteSize() < bytes) {
                // one-time growth; at least 64 rows x 4096 values so prefill batches rarely regrow it
                buffer = Arena.ofAuto().allocate(Math.max(bytes, WeightType.Q8_0.byteSize(64, 4096)), 64);
            }
            return buffer;
        }
    }

    /** The typed matmul for outputs {@code [from, to)} only (one downcall). */
    private static void typedMatmulColumns(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y,
                                           long rows, long in, long out, long from, long to) {
        int status;
        try {
            status = rows == 1
                    ? (int) Downcalls.TYPED_MATVEC.invokeExact(type.ggmlId(), w, x, y, rows, in, out, from, to)
                    : (int) Downcalls.TYPED_MATMUL.invokeExact(type.ggmlId(), w, x, y, rows, in, out, from, to);
        } catch (Throwable t) {
            throw propagate(t);
        }
        if (status != 0) throw new IllegalStateException("the native library has no " + type + " matmul");
    }

    /**
     * Splits a matmul over a {@link WorkerPool}: each thread makes one downcall for its share. Typed weights
     * (F16/BF16/Q8_0/Q4_0) run our C kernels, split by output rows. F32 matmuls, given a {@link Blas}, run
     * one single-threaded OpenBLAS call per share ({@code sgemv} for one row, {@code sgemm} for several):
     * OpenBLAS's own threads cost more than the work on small matrices, because OpenBLAS synchronizes its
     * pool on every call (43 calls per stories15M token). W's shares are its blocks of output rows, each
     * contiguous. For one row, Wᵀ's shares are blocks of its <em>input</em> rows (each thread a contiguous
     * block and a partial y, which the caller then adds): split by outputs, every thread would read a
     * narrow column band of every row of Wᵀ, and the two interleaved strided streams ran slowest of all the
     * splits measured (stories110M, two threads, Zen 5, the same {@code sgemv} calls alone: 67–68 tok/s by
     * outputs, 85–99 by inputs). A batch times Wᵀ is split by output columns: {@code sgemm} packs its
     * operands into blocks anyway. Re-armed per call (no allocation after the first token); below
     * {@link ParallelRanges#MIN_MATMUL_MACS} the call stays on the caller, as do segments the workers cannot
     * access (a confined arena's).
     */
    private static final class MatmulSplit implements WorkerPool.Task {
        private final WorkerPool pool;
        private final Thread worker;
        /** Non-null for the F32 (OpenBLAS) split. */
        private final Blas blas;
        private WeightType type;
        /** x is Q8_0 blocks for {@link #q8ActMatmulColumns}, else float32. */
        private boolean quantizedX;
        /** F32 only: w holds Wᵀ [in, out]. */
        private boolean transposed;
        /** F32 Wᵀ only: shares are ranges of inputs, each summing into its own partial y. */
        private boolean byInputs;
        private MemorySegment w, x, y;
        private long rows, in, out;
        /** One table of reusable BLAS operand views per share (F32 only; see {@link SubViews}), dropped with the session. */
        private final SubViews[] views;
        /** Shares 1.. of a split by inputs write their partial y here (share 0 writes y); grown, never shrunk. */
        private MemorySegment[] partialSums = new MemorySegment[0];
        private long partialCapacity;

        MatmulSplit(WorkerPool pool, Blas blas) {
            this.pool = pool;
            this.worker = pool.workerThreads()[0];
            this.blas = blas;
            this.views = new SubViews[blas == null ? 0 : pool.threads()];
            for (int i = 0; i < views.length; i++) views[i] = new SubViews();
        }

        boolean run(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out,
                    boolean quantizedX) {
            return split(type, false, w, x, y, rows, in, out, quantizedX);
        }

        /**
         * One row times an F32 {@code Wᵀ [in, out]}, split by inputs (see the class comment) when every
         * share gets at least {@value #MIN_INPUTS_PER_SHARE} of them, else by outputs.
         */
        boolean runTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long in, long out) {
            if (in < (long) MIN_INPUTS_PER_SHARE * pool.threads()) {
                return split(WeightType.F32, true, wt, x, y, 1, in, out, false);
            }
            if (!worthSplittingAndShared(1, in, out, wt, x, y)) return false;
            ensurePartialSums(out);
            blas.useThreads(1); // the pool's threads are the parallelism
            arm(WeightType.F32, true, wt, x, y, 1, in, out, false);
            byInputs = true;
            try {
                pool.run(this, in);
            } finally {
                byInputs = false;
            }
            for (int s = 0; s < partialSums.length; s++) {
                addInPlace(y, partialSums[s], out);
            }
            return true;
        }

        /** Several rows times an F32 {@code Wᵀ [in, out]}, split by outputs (one {@code sgemm} per column block of Wᵀ). */
        boolean runOutputs(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
            return split(WeightType.F32, true, wt, x, y, rows, in, out, false);
        }

        /** Inputs each share of a split by inputs gets at least (a few cache lines of x, a block of Wᵀ rows). */
        static final int MIN_INPUTS_PER_SHARE = 16;

        /** One partial y of at least {@code out} floats per worker (a one-time allocation as sizes grow). */
        private void ensurePartialSums(long out) {
            if (partialCapacity >= out) return;
            long capacity = Math.max(out, 1 << 15);
            int workers = pool.threads() - 1;
            // automatic arena: readable by the workers, freed with this split when its session is gone
            MemorySegment all = Arena.ofAuto().allocate(workers * capacity * Float.BYTES, 64);
            MemorySegment[] parts = new MemorySegment[workers];
            for (int i = 0; i < workers; i++) parts[i] = all.asSlice(i * capacity * Float.BYTES, capacity * Float.BYTES);
            partialSums = parts;
            partialCapacity = capacity;
        }

        private boolean split(WeightType type, boolean transposed, MemorySegment w, MemorySegment x, MemorySegment y,
                              long rows, long in, long out, boolean quantizedX) {
            if (!worthSplittingAndShared(rows, in, out, w, x, y)) return false;
            if (type == WeightType.F32) blas.useThreads(1); // the pool's threads are the parallelism
            arm(type, transposed, w, x, y, rows, in, out, quantizedX);
            pool.run(this, out);
            return true;
        }

        /** Large enough to pay for the handoff, and on segments the workers may access. */
        private boolean worthSplittingAndShared(long rows, long in, long out, MemorySegment w, MemorySegment x,
                                                MemorySegment y) {
            return ParallelRanges.worthSplittingMatmul(rows, in, out) && w.isAccessibleBy(worker)
                    && x.isAccessibleBy(worker) && y.isAccessibleBy(worker);
        }

        private void arm(WeightType type, boolean transposed, MemorySegment w, MemorySegment x, MemorySegment y,
                         long rows, long in, long out, boolean quantizedX) {
            this.type = type;
            this.transposed = transposed;
            this.quantizedX = quantizedX;
            this.w = w;
            this.x = x;
            this.y = y;
            this.rows = rows;
            this.in = in;
            this.out = out;
        }

        @Override
        public void run(long from, long to) {
            if (byInputs) {
                int share = pool.shareStartingAt(from, in);
                blas.linearInputsTransposed(w, x, share == 0 ? y : partialSums[share - 1], in, out, from, to,
                        views[share]);
            } else if (type == WeightType.F32) {
                if (from < to) blas.linearOutputs(transposed, w, x, y, rows, in, out, from, to,
                        views[pool.shareStartingAt(from, out)]);
            } else if (quantizedX) {
                q8ActMatmulColumns(type, w, x, y, rows, in, out, from, to);
            } else {
                typedMatmulColumns(type, w, x, y, rows, in, out, from, to);
            }
        }
    }

    /**
     * Splits attention by kv heads over a {@link WorkerPool} (each share a disjoint set of query heads,
     * output columns and score rows; one downcall each). Re-armed per call (no allocation); small calls
     * (below {@link ParallelRanges#MIN_ATTENTION_MACS}), a single kv head, or segments the workers cannot
     * access stay on the caller.
     */
    private static final class AttentionSplit implements WorkerPool.Task {
        private final WorkerPool pool;
        private final Thread worker;
        private int layout, type;
        private MemorySegment q, kCache, vCache, out, scratch;
        private long rows, pos0, nHeads, nKvHeads, headSize, capacity;

        AttentionSplit(WorkerPool pool) {
            this.pool = pool;
            this.worker = pool.workerThreads()[0];
        }

        boolean run(int layout, int type, MemorySegment q, MemorySegment kCache, MemorySegment vCache,
                    MemorySegment out, MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads,
                    long headSize, long capacity) {
            if (nKvHeads < 2 || !ParallelRanges.worthSplittingAttention(rows, pos0, nHeads, headSize)
                    || !q.isAccessibleBy(worker) || !kCache.isAccessibleBy(worker) || !vCache.isAccessibleBy(worker)
                    || !out.isAccessibleBy(worker) || !scratch.isAccessibleBy(worker)) {
                return false;
            }
            this.layout = layout;
            this.type = type;
            this.q = q;
            this.kCache = kCache;
            this.vCache = vCache;
            this.out = out;
            this.scratch = scratch;
            this.rows = rows;
            this.pos0 = pos0;
            this.nHeads = nHeads;
            this.nKvHeads = nKvHeads;
            this.headSize = headSize;
            this.capacity = capacity;
            pool.run(this, nKvHeads);
            return true;
        }

        @Override
        public void run(long from, long to) {
            attentionKvHeads(layout, type, q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize,
                    capacity, from, to);
        }
    }

    /** {@code y[0, n) += p[0, n)} (one critical downcall; both off-heap, at least n floats, checked by the caller). */
    private static void addInPlace(MemorySegment y, MemorySegment p, long n) {
        try {
            Downcalls.ADD.invokeExact(y, p, y, n);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** C's NULL for an absent optional operand ({@code w}, {@code b}, {@code gamma}, {@code beta}). */
    private static MemorySegment orNull(MemorySegment optional) {
        return optional == null ? MemorySegment.NULL : optional;
    }

    /** invokeExact declares Throwable; downcalls only throw unchecked exceptions (e.g. a closed arena). */
    private static RuntimeException propagate(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        throw new AssertionError("unexpected checked exception from a downcall", t);
    }
}
