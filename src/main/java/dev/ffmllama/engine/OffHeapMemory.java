package dev.ffmllama.engine;

import dev.ffmllama.layout.HugePages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Where the engine's own off-heap memory comes from: 64-byte-aligned blocks of one {@link Arena}, or, with
 * huge pages, blocks carved from 2 MiB-aligned slabs advised for huge pages before first touch (so that the
 * many small matrices and buffers of a small model share huge pages instead of each rounding up to one).
 * Closing frees everything at once.
 */
final class OffHeapMemory implements AutoCloseable {
    /** Slab size with huge pages; larger requests get a slab of their own. */
    private static final long SLAB = 16 * HugePages.SIZE;
    /** Alignment of every allocation: one cache line, and one AVX-512 vector. */
    static final long ALIGNMENT = 64;

    private final Arena arena = Arena.ofShared();
    private final boolean hugePages;
    private MemorySegment slab; // the current huge-page slab, or null
    private long slabUsed;

    OffHeapMemory(boolean hugePages) {
        this.hugePages = hugePages;
    }

    /** {@code bytes} of zeroed memory, 64-byte aligned, valid until {@link #close()}. */
    MemorySegment allocate(long bytes) {
        if (!hugePages) return arena.allocate(bytes, ALIGNMENT);
        long size = Math.max(bytes, 1);
        if (size > SLAB / 2) return HugePages.allocate(arena, size);
        long at = (slabUsed + ALIGNMENT - 1) & -ALIGNMENT;
        if (slab == null || at + size > slab.byteSize()) {
            slab = HugePages.allocate(arena, SLAB);
            at = 0;
        }
        slabUsed = at + size;
        return slab.asSlice(at, bytes);
    }

    boolean hugePages() {
        return hugePages;
    }

    /** Whether this memory has not been closed. */
    boolean isAlive() {
        return arena.scope().isAlive();
    }

    /** Whether {@code s} is (part of) memory from here. */
    boolean owns(MemorySegment s) {
        return s.scope().equals(arena.scope());
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
