package dev.ffmllama.tensor;

/**
 * How the weights of a linear layer are stored: float32, or one of ggml's 16-bit or block-quantized
 * layouts (byte for byte as in GGUF files; see {@code native/include/ffmllama_quant.h}). A weight row of
 * {@code in} values takes {@code in / blockSize} blocks of {@code blockBytes} bytes:
 * <ul>
 *   <li>{@link #F16}: IEEE binary16 values; {@link #BF16}: bfloat16 (the upper half of a float32);</li>
 *   <li>{@link #Q8_0}: blocks of 32 values, an fp16 scale {@code d} then 32 int8 {@code q}: {@code x = d·q};</li>
 *   <li>{@link #Q4_0}: blocks of 32 values, an fp16 scale {@code d} then 16 bytes of 4-bit {@code q}, low nibbles
 *       elements 0..15, high nibbles 16..31: {@code x = d·(q − 8)}.</li>
 * </ul>
 * Kernels keep activations in float32 and dequantize weights exactly, so a typed linear layer computes the
 * float32 product with the dequantized weights.
 */
public enum WeightType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    BF16(30, 1, 2),
    Q8_0(8, 32, 34),
    Q4_0(2, 32, 18);

    private final int ggmlId;
    private final int blockSize;
    private final int blockBytes;

    WeightType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** ggml's number for the type (GGUF's tensor type field, and {@code ffm_weight_type} in C). */
    public int ggmlId() {
        return ggmlId;
    }

    /** Values per block: 32 for the quantized types, 1 otherwise. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether rows are stored in blocks of 32 values (so their length must be a multiple of 32). */
    public boolean isBlockQuantized() {
        return blockSize > 1;
    }

    /** The type with that ggml id, or null if it is not one of these. */
    public static WeightType byGgmlId(int id) {
        for (WeightType t : values()) {
            if (t.ggmlId == id) return t;
        }
        return null;
    }

    /**
     * Bytes of one row of {@code in} values.
     *
     * @throws IllegalArgumentException if {@code in} is not positive or not a whole number of blocks
     */
    public long rowBytes(long in) {
        if (in <= 0) throw new IllegalArgumentException("row length must be > 0, got " + in);
        if (in % blockSize != 0) {
            throw new IllegalArgumentException("row length " + in + " is not a multiple of the " + name()
                    + " block size " + blockSize);
        }
        return Math.multiplyExact(in / blockSize, (long) blockBytes);
    }

    /** Bytes of a {@code [rows, in]} matrix ({@link ArithmeticException} on overflow). */
    public long byteSize(long rows, long in) {
        return Math.multiplyExact(rows, rowBytes(in));
    }
}
