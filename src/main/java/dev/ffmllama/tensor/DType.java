package dev.ffmllama.tensor;

/** Element types a {@link Tensor} can hold. Kernels work on {@link #F32}; the others are storage types. */
public enum DType {
    F32(4), I32(4), I64(8), F16(2), BF16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
