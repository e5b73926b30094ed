package dev.ffmllama.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkerPoolTest {

    /** Counts how often each index of the range was visited. */
    private static final class CoverageTask implements WorkerPool.Task {
        final AtomicIntegerArray visits;
        final java.util.Set<String> threadNames = ConcurrentHashMap.newKeySet();

        CoverageTask(int n) {
            visits = new AtomicIntegerArray(n);
        }

        @Override
        public void run(long from, long to) {
            threadNames.add(Thread.currentThread().getName());
            for (long i = from; i < to; i++) visits.incrementAndGet((int) i);
        }
    }

    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2, 3, 5})
    void everyIndexRunsExactlyOncePerCall(int threads) {
        try (WorkerPool pool = new WorkerPool(threads, "test-pool")) {
            for (int n : new int[] {0, 1, 2, 3, 7, 64, 1001}) {
                CoverageTask task = new CoverageTask(n);
                for (int call = 0; call < 50; call++) pool.run(task, n);
                for (int i = 0; i < n; i++) assertEquals(50, task.visits.get(i), "n=" + n + " index " + i);
            }
        }
    }

    @Test
    void workersShareTheWorkAndTheCallerTakesPart() {
        try (WorkerPool pool = new WorkerPool(3, "test-share")) {
            CoverageTask task = new CoverageTask(300);
            pool.run(task, 300);
            assertTrue(task.threadNames.contains(Thread.currentThread().getName()), task.threadNames.toString());
            assertEquals(3, task.threadNames.size(), task.threadNames.toString());
            assertEquals(2, pool.workerThreads().length);
            for (Thread t : pool.workerThreads()) assertTrue(t.isDaemon(), t.getName());
        }
    }

    @Test
    void wakesParkedWorkers() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2, "test-park")) {
            CoverageTask task = new CoverageTask(10);
            pool.run(task, 10);
            Thread worker = pool.workerThreads()[0];
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (worker.getState() != Thread.State.WAITING && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(Thread.State.WAITING, worker.getState(), "an idle worker parks instead of spinning");
            pool.run(task, 10);
            for (int i = 0; i < 10; i++) assertEquals(2, task.visits.get(i));
        }
    }

    @Test
    void aFailingShareIsRethrownToTheCaller() {
        try (WorkerPool pool = new WorkerPool(2, "test-fail")) {
            IllegalStateException boom = new IllegalStateException("boom");
            WorkerPool.Task failing = (from, to) -> {
                if (from > 0) throw boom; // only the worker's share fails
            };
            assertSame(boom, assertThrows(IllegalStateException.class, () -> pool.run(failing, 10)));
            CoverageTask task = new CoverageTask(10);
            pool.run(task, 10); // the pool still works afterwards
            for (int i = 0; i < 10; i++) assertEquals(1, task.visits.get(i));
        }
    }

    @Test
    void closeStopsTheWorkersAndRejectsFurtherWork() throws InterruptedException {
        WorkerPool pool = new WorkerPool(3, "test-close");
        Thread[] workers = pool.workerThreads();
        pool.close();
        pool.close(); // idempotent
        for (Thread t : workers) {
            t.join(5000);
            assertFalse(t.isAlive(), t.getName());
        }
        assertThrows(IllegalStateException.class, () -> pool.run((a, b) -> { }, 10));
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0, "x"));
    }

    @Test
    void runAllocatesNothing() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (WorkerPool pool = new WorkerPool(2, "test-alloc")) {
            long[] sink = new long[2];
            WorkerPool.Task task = (from, to) -> {
                long s = 0;
                for (long i = from; i < to; i++) s += i;
                sink[from == 0 ? 0 : 1] += s;
            };
            long[] ids = Arrays.stream(pool.workerThreads()).mapToLong(Thread::threadId).toArray();
            long allocated = -1;
            for (int round = 0; round < 20 && allocated != 0; round++) {
                // getThreadAllocatedBytes(long[]) returns a new array: read it outside the caller's window
                long workers0 = mx.getThreadAllocatedBytes(ids)[0];
                long caller0 = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20_000; i++) pool.run(task, 1000);
                long caller1 = mx.getCurrentThreadAllocatedBytes();
                allocated = caller1 - caller0 + mx.getThreadAllocatedBytes(ids)[0] - workers0;
            }
            assertEquals(0, allocated, "bytes allocated by 20000 runs (caller + worker)");
        }
    }
}
