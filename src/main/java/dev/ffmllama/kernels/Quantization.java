package dev.ffmllama.kernels;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * Conversions between float32 and the {@link WeightType} layouts, for load time (e.g. quantizing an F32
 * checkpoint's matrices), tests and tools. Plain scalar Java, byte-identical to ggml's reference code and to
 * {@code ffm_quantize_*} / {@code ffm_dequantize_*} in C:
 * <ul>
 *   <li>Q8_0 as {@code quantize_row_q8_0_ref}: {@code d = amax / 127}, {@code q = roundf(x · (1/d))};</li>
 *   <li>Q4_0 as {@code quantize_row_q4_0_ref}: {@code d = max / −8} with {@code max} the value of largest
 *       magnitude, {@code q = min(15, (int) (x · (1/d) + 8.5))};</li>
 *   <li>F16 round to nearest even ({@link Float#floatToFloat16}); BF16 round to nearest even, NaN kept quiet.</li>
 * </ul>
 * Scales are fp16 (stored little-endian, any alignment). Dequantization is exact.
 */
public final class Quantization {
    private Quantization() {
    }

    /**
     * Quantizes {@code n} floats of {@code src} into {@code dst} ({@code type.byteSize(1, n)} bytes).
     *
     * @throws IllegalArgumentException if n is not a whole number of blocks or a segment is too small
     */
    public static void quantize(WeightType type, MemorySegment src, MemorySegment dst, long n) {
        check(type, src, dst, n, "src", "dst");
        switch (type) {
            case F32 -> MemorySegment.copy(src, 0, dst, 0, n * Float.BYTES);
            case F16 -> {
                for (long i = 0; i < n; i++) {
                    dst.set(JAVA_SHORT_UNALIGNED, 2 * i, Float.floatToFloat16(src.getAtIndex(JAVA_FLOAT, i)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) dst.set(JAVA_SHORT_UNALIGNED, 2 * i, toBf16(src.getAtIndex(JAVA_FLOAT, i)));
            }
            case Q8_0 -> {
                for (long b = 0; b < n / 32; b++) quantizeQ8_0Block(src, b * 32, dst, b * 34);
            }
            case Q4_0 -> {
                for (long b = 0; b < n / 32; b++) quantizeQ4_0Block(src, b * 32, dst, b * 18);
            }
        }
    }

    /** Dequantizes {@code n} values of {@code src} (in {@code type}'s layout) into the floats of {@code dst}. */
    public static void dequantize(WeightType type, MemorySegment src, MemorySegment dst, long n) {
        check(type, dst, src, n, "dst", "src");
        for (long i = 0; i < n; i++) dst.setAtIndex(JAVA_FLOAT, i, valueAt(type, src, i));
    }

    /**
     * Dequantizes row {@code row} ({@code n} values) of a {@code [*, n]} matrix stored in {@code type}'s layout
     * into {@code dst} floats {@code [dstAt, dstAt + n)}: the embedding lookup of a quantized token table.
     * Allocation-free (no slices); the caller checks the bounds.
     */
    public static void dequantizeRow(WeightType type, MemorySegment src, long row, long n, MemorySegment dst,
                                     long dstAt) {
        long first = row * n; // element index: valueAt finds the block (rows are whole blocks)
        for (long j = 0; j < n; j++) dst.setAtIndex(JAVA_FLOAT, dstAt + j, valueAt(type, src, first + j));
    }

    /** Value {@code i} of a row (or tensor) stored in {@code type}'s layout, exactly. */
    public static float valueAt(WeightType type, MemorySegment data, long i) {
        return switch (type) {
            case F32 -> data.getAtIndex(JAVA_FLOAT, i);
            case F16 -> Float.float16ToFloat(data.get(JAVA_SHORT_UNALIGNED, 2 * i));
            case BF16 -> fromBf16(data.get(JAVA_SHORT_UNALIGNED, 2 * i));
            case Q8_0 -> {
                long block = i / 32 * 34;
                yield scale(data, block) * data.get(JAVA_BYTE, block + 2 + i % 32);
            }
            case Q4_0 -> {
                long block = i / 32 * 18;
                int j = (int) (i % 32);
                int packed = data.get(JAVA_BYTE, block + 2 + (j & 15)) & 0xff;
                int q = j < 16 ? packed & 0x0f : packed >>> 4;
                yield scale(data, block) * (q - 8);
            }
        };
    }

    /** The fp16 scale at the start of a block. */
    static float scale(MemorySegment data, long blockOffset) {
        return Float.float16ToFloat(data.get(JAVA_SHORT_UNALIGNED, blockOffset));
    }

    /** bfloat16 bits to float (exact). */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float to bfloat16, round to nearest even; a NaN stays a (quiet) NaN. As ggml_compute_fp32_to_bf16. */
    public static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64);
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    private static void quantizeQ8_0Block(MemorySegment src, long at, MemorySegment dst, long out) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src.getAtIndex(JAVA_FLOAT, at + j)));
        float d = amax / 127;
        float id = d != 0f ? 1f / d : 0f;
        dst.set(JAVA_SHORT_UNALIGNED, out, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            dst.set(JAVA_BYTE, out + 2 + j, (byte) roundHalfAway(src.getAtIndex(JAVA_FLOAT, at + j) * id));
        }
    }

    private static void quantizeQ4_0Block(MemorySegment src, long at, MemorySegment dst, long out) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = src.getAtIndex(JAVA_FLOAT, at + j);
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0f ? 1f / d : 0f;
        dst.set(JAVA_SHORT_UNALIGNED, out, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            // (int8_t) casts truncate toward zero, as the Java cast does; the sums are >= 0 here anyway
            int q0 = Math.min(15, (int) (src.getAtIndex(JAVA_FLOAT, at + j) * id + 8.5f));
            int q1 = Math.min(15, (int) (src.getAtIndex(JAVA_FLOAT, at + 16 + j) * id + 8.5f));
            dst.set(JAVA_BYTE, out + 2 + j, (byte) (q0 | (q1 << 4)));
        }
    }

    /** C's roundf: halfway cases away from zero (Math.round rounds them up). Exact in double for floats. */
    private static int roundHalfAway(float v) {
        double r = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -r : r);
    }

    private static void check(WeightType type, MemorySegment floats, MemorySegment typed, long n, String floatsName,
                              String typedName) {
        if (type == null) throw new IllegalArgumentException("weight type is required");
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (n == 0) return;
        long typedBytes = type.byteSize(1, n);
        if (floats.byteSize() < n * Float.BYTES) {
            throw new IllegalArgumentException(floatsName + " holds " + floats.byteSize() + " bytes but " + n
                    + " floats need " + n * Float.BYTES);
        }
        if (typed.byteSize() < typedBytes) {
            throw new IllegalArgumentException(typedName + " holds " + typed.byteSize() + " bytes but " + n + " "
                    + type + " values need " + typedBytes);
        }
    }
}
