package dev.ffmllama.blas;

import java.lang.foreign.MemorySegment;

/**
 * Sub-views of segments at byte offsets, made once and then reused, so a per-token call such as
 * {@link Blas#linearOutputs} can hand OpenBLAS a pointer into the middle of a matrix without creating a
 * {@code MemorySegment} per call. {@code asSlice} allocates unless C2 inlines the whole downcall path and
 * scalar-replaces the slice, which it does not reliably: measured on Zen 5, two-thread decode of
 * stories15M allocated 6.8 KB per token (stories110M 13.5 KB) through those slices.
 *
 * <p>Keyed by the identity of the base segment and the offset; open addressing over plain arrays, so a
 * lookup allocates nothing. The set of (matrix, share start) pairs of a session is fixed, so after the
 * first token every lookup hits. The table grows (a one-time allocation) up to {@code MAX_CAPACITY / 2}
 * entries and is cleared when that is full, so operands passed once are not kept for long.
 *
 * <p>An instance keeps the segments it has seen (and so their arenas' memory, for automatic arenas)
 * reachable: give each thread of one piece of work its own instance and drop them with that work (a
 * session's split matmul owns one per share), rather than keeping one per thread for the thread's life.
 * Not thread-safe.
 */
public final class SubViews {
    private static final int INITIAL_CAPACITY = 256;
    private static final int MAX_CAPACITY = 1 << 14;

    private MemorySegment[] bases = new MemorySegment[INITIAL_CAPACITY];
    private long[] offsets = new long[INITIAL_CAPACITY];
    private MemorySegment[] views = new MemorySegment[INITIAL_CAPACITY];
    private int size;

    /** An empty table. */
    public SubViews() {
    }

    /** {@code base.asSlice(offset)}, the same object each time for the same base object and offset. */
    MemorySegment at(MemorySegment base, long offset) {
        int mask = bases.length - 1;
        for (int i = slot(base, offset, mask); ; i = (i + 1) & mask) {
            MemorySegment b = bases[i];
            if (b == null) break;
            if (b == base && offsets[i] == offset) return views[i];
        }
        MemorySegment view = base.asSlice(offset);
        if (2 * (size + 1) > bases.length) {
            if (bases.length < MAX_CAPACITY) rehash(2 * bases.length);
            else clear();
        }
        insert(base, offset, view);
        return view;
    }

    /** Entries held (for tests). */
    int size() {
        return size;
    }

    private void insert(MemorySegment base, long offset, MemorySegment view) {
        int mask = bases.length - 1;
        int i = slot(base, offset, mask);
        while (bases[i] != null) i = (i + 1) & mask;
        bases[i] = base;
        offsets[i] = offset;
        views[i] = view;
        size++;
    }

    private void rehash(int capacity) {
        MemorySegment[] oldBases = bases, oldViews = views;
        long[] oldOffsets = offsets;
        bases = new MemorySegment[capacity];
        offsets = new long[capacity];
        views = new MemorySegment[capacity];
        size = 0;
        for (int i = 0; i < oldBases.length; i++) {
            if (oldBases[i] != null) insert(oldBases[i], oldOffsets[i], oldViews[i]);
        }
    }

    private void clear() {
        java.util.Arrays.fill(bases, null);
        java.util.Arrays.fill(views, null);
        size = 0;
    }

    private static int slot(MemorySegment base, long offset, int mask) {
        long h = System.identityHashCode(base) * 0x9E3779B97F4A7C15L + offset * 0xC2B2AE3D27D4EB4FL;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
