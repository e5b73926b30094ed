package dev.ffmllama.kernels;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Shape and dtype checks for the tensor-level {@link Kernels} methods; messages name the operand. */
final class Shapes {
    private Shapes() {
    }

    /** Checks that {@code t} is a live, contiguous float32 tensor of rank 1 or more; returns its row length. */
    static long rowLength(String name, Tensor t) {
        requireF32(name, t);
        if (t.rank() == 0) throw new IllegalArgumentException(name + " must have at least one dimension");
        if (t.cols() == 0) throw new IllegalArgumentException(name + " has rows of length 0: " + t);
        return t.cols();
    }

    static void requireSameShape(String name, Tensor t, String refName, Tensor ref) {
        requireF32(name, t);
        if (!Arrays.equals(t.shape(), ref.shape())) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(t.shape()) + " but " + refName
                    + " has shape " + Arrays.toString(ref.shape()));
        }
    }

    static void requireVector(String name, Tensor t, long length) {
        if (t == null) throw new IllegalArgumentException(name + " is required");
        requireF32(name, t);
        if (t.elementCount() != length || t.rank() != 1) {
            throw new IllegalArgumentException(name + " must have shape [" + length + "], got " + Arrays.toString(t.shape()));
        }
    }

    static void requireOptionalVector(String name, Tensor t, long length) {
        if (t != null) requireVector(name, t, length);
    }

    /** rows = -1 accepts any first dimension. */
    static void requireMatrix(String name, Tensor t, long rows, long cols) {
        requireF32(name, t);
        boolean ok = t.rank() == 2 && t.dim(1) == cols && (rows < 0 || t.dim(0) == rows);
        if (!ok) {
            throw new IllegalArgumentException(name + " must have shape [" + (rows < 0 ? "*" : rows) + ", " + cols
                    + "], got " + Arrays.toString(t.shape()));
        }
    }

    static MemorySegment segmentOrNull(Tensor t) {
        return t == null ? null : t.segment();
    }

    private static void requireF32(String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(name + " is required");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " has dtype " + t.dtype() + ", kernels take F32");
        if (!t.isContiguous()) throw new IllegalArgumentException(name + " is not contiguous: " + t);
        if (!t.isAlive()) throw new IllegalStateException(name + " has been freed (its arena is closed)");
    }
}
