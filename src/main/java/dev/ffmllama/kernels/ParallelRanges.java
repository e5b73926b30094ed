package dev.ffmllama.kernels;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * Splits a {@link JavaKernels}' matmul by output rows and its attention by heads over a
 * {@link WorkerPool}. The two tasks are created once and re-armed per call (their fields hold the
 * call's operands), so a call allocates nothing; one instance serves one session at a time.
 *
 * <p>Small calls run on the caller alone: below {@link #MIN_MATMUL_MACS} multiply-adds (or
 * {@link #MIN_ATTENTION_MACS} for attention) the handoff (~1 µs) costs more than the split saves
 * (stories260K's 64×64 projections stay single-threaded; stories15M's 288×288 ones are split).
 * So do calls on segments the workers may not access (a confined arena's): same result, one thread.
 */
final class ParallelRanges {
    static final long MIN_MATMUL_MACS = 1 << 16;
    static final long MIN_ATTENTION_MACS = 1 << 15;

    private final WorkerPool pool;
    /** A worker thread: segments it can access are accessible to all of them. */
    private final Thread worker;
    private final MatmulTask matmul;
    private final AttentionTask attention;

    ParallelRanges(JavaKernels kernels, WorkerPool pool) {
        this.pool = pool;
        this.worker = pool.workerThreads()[0];
        this.matmul = new MatmulTask(kernels);
        this.attention = new AttentionTask(kernels);
    }

    /** Whether a matmul of that size pays for the handoff to the pool. */
    static boolean worthSplittingMatmul(long rows, long in, long out) {
        return rows * in * out >= MIN_MATMUL_MACS;
    }

    /** Whether attention of that size pays for the handoff (score and weighted-sum work of every head). */
    static boolean worthSplittingAttention(long rows, long pos0, long nHeads, long headSize) {
        long positionsRead = rows * pos0 + rows * (rows + 1) / 2; // row r reads positions 0 .. pos0 + r
        return 2 * positionsRead * nHeads * headSize >= MIN_ATTENTION_MACS;
    }

    /** Runs the matmul split over the pool and returns true, or returns false if it is too small to split. */
    boolean matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        return matmul(WeightType.F32, false, w, x, y, rows, in, out);
    }

    /** {@link #matmul} for a transposed weight {@code Wᵀ [in, out]} (split the same way, by outputs). */
    boolean matmulTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        return matmul(WeightType.F32, true, wt, x, y, rows, in, out);
    }

    /** The same for a matmul on F16/BF16/Q8_0/Q4_0 weights: split by outputs (whole weight rows). */
    boolean typedMatmul(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                        long out) {
        return matmul(type, false, w, x, y, rows, in, out);
    }

    private boolean matmul(WeightType type, boolean transposed, MemorySegment w, MemorySegment x, MemorySegment y,
                           long rows, long in, long out) {
        if (!worthSplittingMatmul(rows, in, out) || !shared(w) || !shared(x) || !shared(y)) return false;
        MatmulTask t = matmul;
        t.type = type;
        t.transposed = transposed;
        t.w = w;
        t.x = x;
        t.y = y;
        t.rows = rows;
        t.in = in;
        t.out = out;
        pool.run(t, out);
        return true;
    }

    /** Runs attention split over heads and returns true, or returns false if it is too small to split. */
    boolean attention(KvOrder order, WeightType kvType, MemorySegment q, MemorySegment kCache, MemorySegment vCache,
                      MemorySegment out, MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads,
                      long headSize, long capacity) {
        if (nHeads < 2 || !worthSplittingAttention(rows, pos0, nHeads, headSize)) return false;
        if (!shared(q) || !shared(kCache) || !shared(vCache) || !shared(out) || !shared(scratch)) return false;
        AttentionTask t = attention;
        t.order = order;
        t.kvType = kvType;
        t.capacity = capacity;
        t.q = q;
        t.kCache = kCache;
        t.vCache = vCache;
        t.out = out;
        t.scratch = scratch;
        t.rows = rows;
        t.pos0 = pos0;
        t.nHeads = nHeads;
        t.nKvHeads = nKvHeads;
        t.headSize = headSize;
        pool.run(t, nHeads);
        return true;
    }

    private boolean shared(MemorySegment s) {
        return s.isAccessibleBy(worker);
    }

    /** One share of a matmul (F32, transposed F32 or typed weights): the outputs {@code [from, to)}. */
    private static final class MatmulTask implements WorkerPool.Task {
        private final JavaKernels kernels;
        WeightType type;
        boolean transposed; // w holds Wᵀ [in, out] (F32 only)
        MemorySegment w, x, y;
        long rows, in, out;

        MatmulTask(JavaKernels kernels) {
            this.kernels = kernels;
        }

        @Override
        public void run(long from, long to) {
            if (transposed) kernels.matmulTransposedOutputs(w, x, y, rows, in, out, from, to);
            else if (type == WeightType.F32) kernels.matmulOutputs(w, x, y, rows, in, out, from, to);
            else kernels.typedMatmulOutputs(type, w, x, y, rows, in, out, from, to);
        }
    }

    /** One share of attention: the heads {@code [from, to)}. */
    private static final class AttentionTask implements WorkerPool.Task {
        private final JavaKernels kernels;
        KvOrder order;
        WeightType kvType;
        MemorySegment q, kCache, vCache, out, scratch;
        long rows, pos0, nHeads, nKvHeads, headSize, capacity;

        AttentionTask(JavaKernels kernels) {
            this.kernels = kernels;
        }

        @Override
        public void run(long from, long to) {
            kernels.attentionHeads(order, kvType, q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads,
                    headSize, capacity, from, to);
        }
    }
}
