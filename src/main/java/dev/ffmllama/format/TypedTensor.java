package dev.ffmllama.format;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A weight tensor as stored in a model file: its {@link WeightType}, its raw bytes (a read-only view of the
 * mapping, in that type's layout, not necessarily aligned) and its row-major shape, e.g. {@code [out, in]} for
 * a linear layer. Pass {@code type()} and {@code data()} to {@code Kernels.matmul(WeightType, ...)}.
 *
 * @param type  storage type
 * @param data  the tensor's bytes, exactly {@code type.byteSize(rows(), cols())} long
 * @param shape row-major shape (slowest dimension first); rank 1 or more
 */
public record TypedTensor(WeightType type, MemorySegment data, long[] shape) {
    public TypedTensor {
        shape = shape.clone();
        if (shape.length == 0) throw new IllegalArgumentException("a typed tensor needs at least one dimension");
        long expected = type.byteSize(rowsOf(shape), shape[shape.length - 1]);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(type + " tensor of shape " + Arrays.toString(shape) + " needs "
                    + expected + " bytes, got " + data.byteSize());
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Length of the last (fastest) dimension: the {@code in} of a linear layer. */
    public long cols() {
        return shape[shape.length - 1];
    }

    /** Product of all other dimensions: the {@code out} of a linear layer. */
    public long rows() {
        return rowsOf(shape);
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.rowBytes(cols());
    }

    private static long rowsOf(long[] shape) {
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) rows = Math.multiplyExact(rows, shape[i]);
        return rows;
    }

    @Override
    public String toString() {
        return "TypedTensor[" + type + " " + Arrays.toString(shape) + "]";
    }
}
