package dev.ffmllama.kernels;

/**
 * Kernels bound to a thread count for one session ({@link Backend#kernels(int)}), together with the
 * worker threads they own, if any. Closing stops those threads; the kernels must not be used after.
 */
public final class SessionKernels implements AutoCloseable {
    private final Kernels kernels;
    private final WorkerPool pool;

    SessionKernels(Kernels kernels, WorkerPool pool) {
        this.kernels = kernels;
        this.pool = pool;
    }

    /** The validating kernels to run the forward pass with. */
    public Kernels kernels() {
        return kernels;
    }

    /** The JVM worker threads these kernels split work over (none for the native backend or 1 thread). */
    public Thread[] workerThreads() {
        return pool == null ? new Thread[0] : pool.workerThreads();
    }

    /** Stops the worker threads, if any. Idempotent. */
    @Override
    public void close() {
        if (pool != null) pool.close();
    }
}
