package dev.ffmllama.engine;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.ffmllama.format.TypedTensor;
import java.lang.foreign.MemorySegment;

/**
 * The load-time copies behind the weight layouts of {@link dev.ffmllama.layout.Layout}: fusing matrices
 * (their rows one after the other, bytes as stored, so any storage type works: rows stay whole),
 * transposing an F32 matrix, and plain aligned copies.
 */
final class WeightLayouts {
    /** Square tiles of the transpose: a tile's source rows and destination rows both stay in L1. */
    private static final int TILE = 32;

    private WeightLayouts() {
    }

    /** One matrix with the rows of {@code parts} in order; all parts share a type and a row length. */
    static TypedTensor concatRows(OffHeapMemory memory, TypedTensor... parts) {
        long cols = parts[0].cols();
        long rows = 0, bytes = 0;
        for (TypedTensor p : parts) {
            if (p.type() != parts[0].type() || p.cols() != cols) {
                throw new IllegalArgumentException("cannot fuse " + p + " with " + parts[0]
                        + ": fused matrices need one storage type and one row length");
            }
            rows += p.rows();
            bytes += p.data().byteSize();
        }
        MemorySegment out = memory.allocate(bytes);
        long at = 0;
        for (TypedTensor p : parts) {
            MemorySegment.copy(p.data(), 0, out, at, p.data().byteSize());
            at += p.data().byteSize();
        }
        return new TypedTensor(parts[0].type(), out, new long[] {rows, cols});
    }

    /** {@code Wᵀ [in, out]} of an F32 {@code W [out, in]}, in new memory. */
    static MemorySegment transpose(TypedTensor w, OffHeapMemory memory) {
        long out = w.rows(), in = w.cols();
        MemorySegment src = w.data();
        MemorySegment dst = memory.allocate(out * in * Float.BYTES);
        for (long o0 = 0; o0 < out; o0 += TILE) {
            for (long i0 = 0; i0 < in; i0 += TILE) {
                long oEnd = Math.min(out, o0 + TILE), iEnd = Math.min(in, i0 + TILE);
                for (long o = o0; o < oEnd; o++) {
                    for (long i = i0; i < iEnd; i++) {
                        dst.setAtIndex(JAVA_FLOAT, i * out + o, src.getAtIndex(JAVA_FLOAT, o * in + i));
                    }
                }
            }
        }
        return dst;
    }

    /** A copy of {@code s} in {@code memory} (64-byte aligned). */
    static MemorySegment copy(MemorySegment s, OffHeapMemory memory) {
        MemorySegment out = memory.allocate(s.byteSize());
        MemorySegment.copy(s, 0, out, 0, s.byteSize());
        return out;
    }
}
