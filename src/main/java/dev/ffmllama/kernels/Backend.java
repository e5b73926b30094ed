package dev.ffmllama.kernels;

import java.util.Locale;

/** The three implementations of {@link Kernels}: our C kernels + OpenBLAS, the Java Vector API, plain Java. */
public enum Backend {
    /** C kernels through FFM downcalls (jextract bindings), linear layers in OpenBLAS. */
    NATIVE(NativeKernels::new),
    /** Pure Java on the Vector API ({@code jdk.incubator.vector}). */
    VECTOR((threads, pool) -> new VectorKernels(pool)),
    /** Plain scalar Java: the readable reference. */
    JAVA((threads, pool) -> new JavaKernels(pool));

    /** Creates the raw kernels of a backend for a thread count and its JVM worker pool (null for one thread). */
    private interface Factory {
        Kernels create(int threads, WorkerPool pool);
    }

    private final Factory factory;
    private volatile Kernels kernels;

    Backend(Factory factory) {
        this.factory = factory;
    }

    /**
     * The validating kernels of this backend (created on first use; for {@link #NATIVE} this loads the
     * native library and OpenBLAS, and fails loudly if they cannot be loaded).
     */
    public Kernels kernels() {
        Kernels k = kernels;
        if (k == null) {
            synchronized (this) {
                k = kernels;
                if (k == null) {
                    k = new CheckedKernels(factory.create(1, null));
                    kernels = k;
                }
            }
        }
        return k;
    }

    /**
     * Validating kernels that run on {@code threads} threads, for one session, which closes them.
     * Each session gets a {@link WorkerPool} of its own ({@code threads - 1} daemon threads plus the
     * caller). {@link #NATIVE} runs F32 linear layers on that many OpenBLAS threads (set before each
     * BLAS call when another count is in force) and splits its own typed-weight (F16/BF16/Q8_0/Q4_0)
     * matmuls over the pool; {@link #VECTOR} and {@link #JAVA} split matmul rows and attention heads
     * over it. One thread gives the shared {@link #kernels()}.
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public SessionKernels kernels(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (threads == 1) return new SessionKernels(kernels(), null);
        kernels(); // loads the native library first, so a failure surfaces before any thread starts
        WorkerPool pool = new WorkerPool(threads, "ffm-llama-" + cliName());
        try {
            return new SessionKernels(new CheckedKernels(factory.create(threads, pool)), pool);
        } catch (RuntimeException | Error e) {
            if (pool != null) pool.close();
            throw e;
        }
    }

    /** The lower-case name used on the command line. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code native}, {@code vector} or {@code java} (any case). */
    public static Backend parse(String name) {
        for (Backend b : values()) {
            if (b.name().equalsIgnoreCase(name.trim())) return b;
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (expected native, vector or java)");
    }
}
