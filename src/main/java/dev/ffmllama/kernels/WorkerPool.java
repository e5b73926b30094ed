package dev.ffmllama.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that splits one range of work between them: {@code threads - 1} platform
 * daemon workers plus the calling thread, which always takes the first share. Built for the forward
 * pass, where a session hands out hundreds of short tasks per token (every matmul, attention):
 *
 * <ul>
 *   <li>nothing is allocated per {@link #run}: tasks are long-lived objects the caller re-arms (no
 *       lambda per call), and the handoff is a volatile generation counter plus an atomic count of
 *       workers still busy;</li>
 *   <li>a worker spins briefly after each task ({@link Thread#onSpinWait()}) because the next task of a
 *       token is usually microseconds away, then parks, so an idle session burns no CPU;</li>
 *   <li>it is not the common ForkJoin pool, so sessions neither share nor steal each other's threads.</li>
 * </ul>
 *
 * <p>One caller at a time (a session is single-threaded); {@link #run} is not reentrant. A task must
 * not throw; if it does, the first exception is rethrown to the caller after every share finished.
 */
public final class WorkerPool implements AutoCloseable {

    /** One share of the work: {@code [from, to)} of the range given to {@link #run}. */
    @FunctionalInterface
    public interface Task {
        void run(long from, long to);
    }

    /** Spins (each one {@link Thread#onSpinWait()}) before a waiting worker parks: well under a millisecond. */
    private static final int SPINS_BEFORE_PARK = 1 << 15;

    private final int threads;
    private final Worker[] workers;
    private final AtomicInteger busy = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;
    // Written by the caller before the volatile write of `generation`, read by workers after reading it.
    private Task task;
    private long rangeLength;
    private volatile Throwable failure;

    /**
     * @param threads total threads including the caller (>= 1; 1 creates no thread and runs tasks inline)
     * @param name    prefix of the worker threads' names
     */
    public WorkerPool(int threads, String name) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1, name + "-" + (i + 1));
            workers[i].thread.start();
        }
    }

    /** Threads that share each task, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over {@code [0, length)} split into {@link #threads()} contiguous shares of
     * (almost) equal size; returns when all shares are done. The caller runs share 0.
     */
    public void run(Task task, long length) {
        if (closed) throw new IllegalStateException("worker pool is closed");
        if (workers.length == 0 || length < 2) {
            task.run(0, length);
            return;
        }
        this.task = task;
        this.rangeLength = length;
        busy.set(workers.length);
        generation = generation + 1; // publishes task and rangeLength
        for (Worker w : workers) {
            if (w.parked) LockSupport.unpark(w.thread);
        }
        try {
            task.run(0, shareEnd(0, length));
        } finally {
            awaitWorkers();
            this.task = null;
        }
        Throwable t = failure;
        if (t != null) {
            failure = null;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            throw new IllegalStateException("worker task failed", t);
        }
    }

    /**
     * The number of the share (0 = the caller's) that {@link #run} over {@code [0, length)} hands the non-empty
     * range starting at {@code from}: lets a task keep per-share results apart.
     *
     * @throws IllegalArgumentException if no non-empty share starts there
     */
    public int shareStartingAt(long from, long length) {
        for (int s = 0; s < threads; s++) {
            if (shareStart(s, length) == from && shareEnd(s, length) > from) return s;
        }
        throw new IllegalArgumentException("no share of [0, " + length + ") over " + threads + " threads starts at " + from);
    }

    private long shareEnd(int share, long length) {
        // (length * (share + 1)) / threads without overflow for any realistic length (< 2^53)
        return share + 1 == threads ? length : length / threads * (share + 1) + Math.min(share + 1, length % threads);
    }

    private long shareStart(int share, long length) {
        return share == 0 ? 0 : shareEnd(share - 1, length);
    }

    private void awaitWorkers() {
        int spins = 0;
        while (busy.get() != 0) {
            // Shares are balanced, so this is short; yield if a worker was descheduled.
            if (++spins < SPINS_BEFORE_PARK) Thread.onSpinWait();
            else Thread.yield();
        }
    }

    /** Stops and joins the workers. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w.thread);
        for (Worker w : workers) {
            try {
                w.thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The worker threads (for tests and tools that measure their allocation). */
    public Thread[] workerThreads() {
        Thread[] t = new Thread[workers.length];
        for (int i = 0; i < t.length; i++) t[i] = workers[i].thread;
        return t;
    }

    private final class Worker implements Runnable {
        final int share;
        final Thread thread;
        volatile boolean parked;

        Worker(int share, String name) {
            this.share = share;
            this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
        }

        @Override
        public void run() {
            // Not `generation` read now: the first task may already have been published before this
            // thread got to run; every worker is created while the generation is still 0.
            long seen = 0;
            while (true) {
                long current = awaitNewGeneration(seen);
                if (current < 0) return;
                seen = current;
                try {
                    long length = rangeLength;
                    long from = shareStart(share, length);
                    long to = shareEnd(share, length);
                    if (from < to) task.run(from, to);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    busy.decrementAndGet();
                }
            }
        }

        /** The next generation after {@code seen}, or -1 once the pool is closed. */
        private long awaitNewGeneration(long seen) {
            int spins = 0;
            while (true) {
                long g = generation;
                if (g != seen) return g;
                if (closed) return -1;
                if (++spins < SPINS_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    // Announce the park, then re-check: the caller bumps `generation` before it reads
                    // `parked` (both volatile), so either we see the new generation or it unparks us.
                    parked = true;
                    if (generation == seen && !closed) LockSupport.park(this);
                    parked = false;
                    spins = 0;
                }
            }
        }
    }
}
