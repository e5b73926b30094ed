package dev.ffmllama.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.bindings.kernels.ffmllama_quant_h;
import dev.ffmllama.nativelib.NativeLibrary;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Kernels#matmul(WeightType, MemorySegment, MemorySegment, MemorySegment, long, long, long)} on every
 * backend and type against a float64 reference over the dequantized weights, the Java quantizer against the C
 * one (same bytes), and the argument checks.
 */
class TypedMatmulContractTest {

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        long[] rowCounts = {1, 3, 17};
        long[] outs = {1, 5, 33};
        for (Backend backend : Backend.values()) {
            for (WeightType type : WeightType.values()) {
                List<Long> ins = new ArrayList<>(List.of(32L, 96L, 288L, 1056L));
                if (!type.isBlockQuantized()) ins.addAll(List.of(1L, 17L, 45L));
                for (long rows : rowCounts) {
                    for (long out : outs) {
                        for (long in : ins) cases.add(Arguments.of(backend, type, rows, in, out));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} rows={2} in={3} out={4}")
    @MethodSource("cases")
    void matchesFloat64ReferenceOverDequantizedWeights(Backend backend, WeightType type, long rows, long in,
                                                       long out) {
        Kernels k = backend.kernels();
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(31 * in + 7 * out + rows + type.ordinal());
            MemorySegment wf = floats(arena, out * in, rnd, 1.0);
            // one byte past an aligned block: typed weights carry no alignment requirement (F32 must be aligned)
            long misalign = type == WeightType.F32 ? 0 : 1;
            MemorySegment w = arena.allocate(type.byteSize(out, in) + misalign, 64).asSlice(misalign);
            for (long o = 0; o < out; o++) {
                Quantization.quantize(type, wf.asSlice(o * in * 4, in * 4), w.asSlice(o * type.rowBytes(in)), in);
            }
            MemorySegment wd = arena.allocate(out * in * 4, 64);
            Quantization.dequantize(type, w, wd, out * in);
            MemorySegment x = floats(arena, rows * in, rnd, 2.0);
            MemorySegment y = arena.allocate(rows * out * 4, 64);
            y.fill((byte) 0x7f); // NaN-ish garbage: every output must be written

            k.matmul(type, w, x, y, rows, in, out);

            for (long r = 0; r < rows; r++) {
                for (long o = 0; o < out; o++) {
                    double ref = 0;
                    double magnitude = 0;
                    for (long j = 0; j < in; j++) {
                        double p = (double) wd.getAtIndex(JAVA_FLOAT, o * in + j) * x.getAtIndex(JAVA_FLOAT, r * in + j);
                        ref += p;
                        magnitude += Math.abs(p);
                    }
                    float got = y.getAtIndex(JAVA_FLOAT, r * out + o);
                    double tolerance = 1e-6 * magnitude + 1e-30; // float32 summation of `in` products
                    if (!(Math.abs(got - ref) <= tolerance)) {
                        throw new AssertionError(backend + " " + type + " y[" + r + ", " + o + "] = " + got
                                + " but the float64 reference is " + ref + " (tolerance " + tolerance + ")");
                    }
                }
            }
        }
    }

    /** Java's quantizer writes the bytes of the C one (ggml's reference rounding) for every type. */
    @ParameterizedTest
    @EnumSource(WeightType.class)
    void javaQuantizerMatchesNative(WeightType type) throws Throwable {
        NativeLibrary.load();
        int n = 32 * 64;
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(5);
            MemorySegment src = arena.allocate(n * 4L, 64);
            for (int i = 0; i < n; i++) {
                // mixed magnitudes, exact halves (ties) and a few zero blocks
                float v = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(6) - 3));
                if (i % 97 == 0) v = 0.5f * (rnd.nextInt(64) - 32);
                if (i / 32 == 3) v = 0f;
                src.setAtIndex(JAVA_FLOAT, i, v);
            }
            long bytes = type.byteSize(1, n);
            MemorySegment javaOut = arena.allocate(bytes);
            MemorySegment nativeOut = arena.allocate(bytes);
            Quantization.quantize(type, src, javaOut, n);
            switch (type) {
                case F32 -> MemorySegment.copy(src, 0, nativeOut, 0, bytes);
                case F16 -> ffmllama_quant_h.ffm_quantize_f16(src, nativeOut, n);
                case BF16 -> ffmllama_quant_h.ffm_quantize_bf16(src, nativeOut, n);
                case Q8_0 -> ffmllama_quant_h.ffm_quantize_q8_0(src, nativeOut, n);
                case Q4_0 -> ffmllama_quant_h.ffm_quantize_q4_0(src, nativeOut, n);
            }
            assertArrayEquals(nativeOut.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    javaOut.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), type + " bytes differ");

            MemorySegment back = arena.allocate(n * 4L);
            MemorySegment nativeBack = arena.allocate(n * 4L);
            Quantization.dequantize(type, javaOut, back, n);
            switch (type) {
                case F32 -> MemorySegment.copy(javaOut, 0, nativeBack, 0, bytes);
                case F16 -> ffmllama_quant_h.ffm_dequantize_f16(javaOut, nativeBack, n);
                case BF16 -> ffmllama_quant_h.ffm_dequantize_bf16(javaOut, nativeBack, n);
                case Q8_0 -> ffmllama_quant_h.ffm_dequantize_q8_0(javaOut, nativeBack, n);
                case Q4_0 -> ffmllama_quant_h.ffm_dequantize_q4_0(javaOut, nativeBack, n);
            }
            assertArrayEquals(nativeBack.toArray(JAVA_FLOAT), back.toArray(JAVA_FLOAT), type + " dequantized values");
        }
    }

    @Test
    void q4_0LayoutIsLowNibblesFirst() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(18);
            block.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, Float.floatToFloat16(0.5f));
            for (int j = 0; j < 16; j++) block.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 2 + j, (byte) (j | (15 - j) << 4));
            for (int j = 0; j < 16; j++) {
                assertEquals(0.5f * (j - 8), Quantization.valueAt(WeightType.Q4_0, block, j));
                assertEquals(0.5f * (15 - j - 8), Quantization.valueAt(WeightType.Q4_0, block, 16 + j));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void rejectsBadTypedArguments(Backend backend) {
        Kernels k = backend.kernels();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(64 * 4, 64);
            MemorySegment y = arena.allocate(64 * 4, 64);
            MemorySegment w = arena.allocate(WeightType.Q8_0.byteSize(2, 64));
            var notBlocks = assertThrows(IllegalArgumentException.class,
                    () -> k.matmul(WeightType.Q8_0, w, x, y, 1, 48, 2));
            assertTrue(notBlocks.getMessage().contains("multiple of the Q8_0 block size 32"), notBlocks.getMessage());
            var tooSmall = assertThrows(IllegalArgumentException.class,
                    () -> k.matmul(WeightType.Q8_0, w, x, y, 1, 64, 3));
            assertTrue(tooSmall.getMessage().contains("needs 204"), tooSmall.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k.matmul(WeightType.Q4_0, w, x, y, 2, 64, 2),
                    "x too small for rows*in");
            assertThrows(IllegalArgumentException.class, () -> k.matmul(null, w, x, y, 1, 64, 2));
            MemorySegment heap = MemorySegment.ofArray(new byte[(int) WeightType.Q8_0.byteSize(2, 64)]);
            assertThrows(IllegalArgumentException.class, () -> k.matmul(WeightType.Q8_0, heap, x, y, 1, 64, 2));
        }
    }

    private static MemorySegment floats(Arena arena, long n, Random rnd, double scale) {
        MemorySegment s = arena.allocate(n * 4, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, (float) (scale * (2 * rnd.nextDouble() - 1)));
        return s;
    }
}
