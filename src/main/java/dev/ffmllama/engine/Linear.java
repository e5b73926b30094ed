package dev.ffmllama.engine;

import dev.ffmllama.format.TypedTensor;
import dev.ffmllama.kernels.Kernels;
import dev.ffmllama.kernels.Quantization;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * A linear layer's weight {@code W [out, in]} in its storage type (F32, F16, BF16, Q8_0, Q4_0);
 * {@link #apply} computes {@code y[rows, out] = x[rows, in] · Wᵀ} with the backend's kernel for that
 * type (OpenBLAS for F32 on the native backend). With {@code transposed} (the {@code matrix=transposed}
 * layout, F32 only) {@code data} holds {@code Wᵀ [in, out]} and the transposed kernel applies it.
 */
record Linear(WeightType type, MemorySegment data, long out, long in, boolean transposed) {

    static Linear of(TypedTensor t) {
        return new Linear(t.type(), t.data(), t.rows(), t.cols(), false);
    }

    /** The layer whose {@code W [out, in]} is stored as {@code Wᵀ} in {@code transposedData}. */
    static Linear transposed(MemorySegment transposedData, long out, long in) {
        return new Linear(WeightType.F32, transposedData, out, in, true);
    }

    void apply(Kernels k, MemorySegment x, MemorySegment y, long rows) {
        if (transposed) k.matmulTransposed(data, x, y, rows, in, out);
        else k.matmul(type, data, x, y, rows, in, out);
    }

    /** Copies row {@code token} of this matrix, as float32, into row {@code dstRow} of {@code dst}: an embedding lookup. */
    void copyRow(long token, MemorySegment dst, long dstRow) {
        if (transposed) throw new IllegalStateException("an embedding is looked up by rows: it is never transposed");
        if (type == WeightType.F32) {
            long rowBytes = in * Float.BYTES;
            MemorySegment.copy(data, token * rowBytes, dst, dstRow * rowBytes, rowBytes);
        } else {
            Quantization.dequantizeRow(type, data, token, in, dst, dstRow * in);
        }
    }

    /** Bytes read when the whole matrix is applied once. */
    long byteSize() {
        return data.byteSize();
    }
}
