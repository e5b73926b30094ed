package dev.ffmllama;

/**
 * Keeps native memory alive while it is in use: every compute step (a forward pass, sampling) runs
 * between {@link #enter()} and {@link #exit()}, and {@link #closeAndAwait()} admits no new step and
 * waits for the running ones to finish before the caller frees anything. Steps never call user
 * code, so a close from a {@link TokenListener} (same thread) cannot wait for itself. Uncontended
 * enter/exit costs one monitor acquisition each and allocates nothing.
 */
final class UseGuard {
    private int users;
    private boolean closed;

    /** Starts a step; false if closed (or closing), in which case the step must not run. */
    synchronized boolean enter() {
        if (closed) return false;
        users++;
        return true;
    }

    /** Ends a step started by a successful {@link #enter()}. */
    synchronized void exit() {
        if (--users == 0 && closed) notifyAll();
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Closes the guard and waits until no step is running. Returns true for the first call only,
     * which then owns freeing the resource; later calls just wait. An interrupt does not cut the
     * wait short (freeing memory under a running step would crash the JVM); it is re-asserted.
     */
    synchronized boolean closeAndAwait() {
        boolean first = !closed;
        closed = true;
        boolean interrupted = false;
        while (users > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        return first;
    }
}
