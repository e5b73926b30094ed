package dev.ffmllama.kernels;

import static dev.ffmllama.kernels.TestData.assertClose;
import static dev.ffmllama.kernels.TestData.floats;
import static dev.ffmllama.kernels.TestData.segment;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernels behind the memory layouts on every backend (1 and 2 threads): attention over head-major and F16
 * KV caches against the float64 reference of the token-major F32 attention (over the F16-rounded cache for F16),
 * and the transposed matmul against the reference matmul; plus the checks that reject bad layouts' operands.
 */
class LayoutKernelsContractTest {

    static Stream<Arguments> backendsOrdersTypes() {
        return Stream.of(Backend.values()).flatMap(b -> Stream.of(1, 2).flatMap(t -> Stream.of(KvOrder.values())
                .flatMap(o -> Stream.of(WeightType.F32, WeightType.F16).map(ty -> Arguments.of(b, t, o, ty)))));
    }

    /** {rows, pos0, nHeads, nKvHeads, headSize}: decode, prefill, GQA, MQA, odd and > 64 head sizes. */
    private static final int[][] ATTENTION_CASES = {
        {1, 5, 4, 2, 8}, {6, 0, 4, 2, 8}, {6, 3, 4, 4, 16}, {3, 40, 6, 1, 17}, {2, 7, 2, 2, 150}, {4, 100, 8, 2, 64},
    };

    @ParameterizedTest(name = "{0} threads={1} {2} {3}")
    @MethodSource("backendsOrdersTypes")
    void attentionOverEveryCacheLayout(Backend backend, int threads, KvOrder order, WeightType type) {
        try (SessionKernels sk = backend.kernels(threads); Arena arena = Arena.ofShared()) {
            Kernels k = sk.kernels();
            for (int[] c : ATTENTION_CASES) {
                int rows = c[0], pos0 = c[1], nHeads = c[2], nKv = c[3], headSize = c[4];
                int positions = pos0 + rows, capacity = positions + 3, kvDim = nKv * headSize;
                float[] q = TestData.random(rows * nHeads * headSize, 0, 1, 1);
                float[] keys = TestData.random(positions * kvDim, 0, 1, 2);
                float[] values = TestData.random(positions * kvDim, 0, 1, 3);
                if (type == WeightType.F16) { // the reference sees what the cache holds
                    roundToHalf(keys);
                    roundToHalf(values);
                }
                double[] expected = Reference.attention(q, keys, values, rows, pos0, nHeads, nKv, headSize);
                MemorySegment kc = cache(arena, keys, positions, capacity, nKv, headSize, order, type);
                MemorySegment vc = cache(arena, values, positions, capacity, nKv, headSize, order, type);
                MemorySegment out = arena.allocate((long) rows * nHeads * headSize * Float.BYTES, 64);
                out.fill((byte) 0x7f);
                MemorySegment scratch = arena.allocate((long) nHeads * positions * Float.BYTES, 64);
                k.attention(order, type, segment(arena, q), kc, vc, out, scratch, rows, pos0, nHeads, nKv, headSize,
                        capacity);
                assertClose(order + " " + type + " attention rows=" + rows + " pos0=" + pos0 + " heads=" + nHeads + "/"
                        + nKv + " hs=" + headSize, expected, floats(out), 1e-5, 1e-6);
            }
        }
    }

    static Stream<Arguments> backendsAndThreads() {
        return Stream.of(Backend.values()).flatMap(b -> Stream.of(Arguments.of(b, 1), Arguments.of(b, 2)));
    }

    @ParameterizedTest(name = "{0} threads={1}")
    @MethodSource("backendsAndThreads")
    void transposedMatmulMatchesTheReference(Backend backend, int threads) {
        try (SessionKernels sk = backend.kernels(threads); Arena arena = Arena.ofShared()) {
            Kernels k = sk.kernels();
            for (int rows : new int[] {1, 5}) {
                for (int[] inOut : new int[][] {{1, 1}, {7, 3}, {67, 33}, {300, 129}, {288, 768}}) {
                    int in = inOut[0], out = inOut[1];
                    float[] w = TestData.random(out * in, 0, 1, in);
                    float[] x = TestData.random(rows * in, 0, 1, out);
                    float[] wt = new float[in * out];
                    for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
                    MemorySegment y = arena.allocate((long) rows * out * Float.BYTES, 64);
                    y.fill((byte) 0x7f);
                    k.matmulTransposed(segment(arena, wt), segment(arena, x), y, rows, in, out);
                    assertClose("transposed matmul " + rows + "x" + in + "->" + out, Reference.matmul(w, x, rows, in, out),
                            floats(y), 1e-4, 1e-4);
                }
            }
        }
    }

    @Test
    void badLayoutOperandsAreRejectedBeforeAnyNativeCall() {
        Kernels k = Backend.NATIVE.kernels();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(4 * 8 * 4, 64), out = arena.allocate(4 * 8 * 4, 64);
            MemorySegment scratch = arena.allocate(4 * 10 * 4, 64);
            MemorySegment cache = arena.allocate(10 * 2 * 8 * 2 + 2, 64); // 10 positions of F16, plus 2 bytes
            // capacity smaller than the positions attended
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.attention(
                    KvOrder.HEAD_MAJOR, WeightType.F16, q, cache, cache, out, scratch, 1, 9, 4, 2, 8, 9));
            assertTrue(e.getMessage().contains("capacity"), e.getMessage());
            // an F32 cache needs twice the bytes of an F16 one
            e = assertThrows(IllegalArgumentException.class, () -> k.attention(KvOrder.HEAD_MAJOR, WeightType.F32, q,
                    cache, cache, out, scratch, 1, 9, 4, 2, 8, 10));
            assertTrue(e.getMessage().contains("k_cache"), e.getMessage());
            // F16 elements must be 2-byte aligned
            MemorySegment odd = cache.asSlice(1, 10 * 2 * 8 * 2);
            e = assertThrows(IllegalArgumentException.class, () -> k.attention(KvOrder.TOKEN_MAJOR, WeightType.F16, q,
                    odd, cache, out, scratch, 1, 9, 4, 2, 8, 10));
            assertTrue(e.getMessage().contains("aligned"), e.getMessage());
            // only F32 and F16 caches exist
            e = assertThrows(IllegalArgumentException.class, () -> k.attention(KvOrder.TOKEN_MAJOR, WeightType.Q8_0, q,
                    cache, cache, out, scratch, 1, 9, 4, 2, 8, 10));
            assertTrue(e.getMessage().contains("Q8_0"), e.getMessage());
            // a transposed weight too small for [in, out]
            MemorySegment w = arena.allocate(7 * 3 * 4 - 4, 64), x = arena.allocate(7 * 4, 64), y = arena.allocate(3 * 4, 64);
            e = assertThrows(IllegalArgumentException.class, () -> k.matmulTransposed(w, x, y, 1, 7, 3));
            assertTrue(e.getMessage().contains("in*out"), e.getMessage());
        }
    }

    private static void roundToHalf(float[] v) {
        for (int i = 0; i < v.length; i++) v[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
    }

    /** A cache of {@code capacity} positions in the layout, holding the token-major rows of {@code src}; the rest NaN. */
    private static MemorySegment cache(Arena arena, float[] src, int positions, int capacity, int nKv, int headSize,
                                       KvOrder order, WeightType type) {
        int bytes = type == WeightType.F16 ? 2 : 4;
        MemorySegment s = arena.allocate((long) capacity * nKv * headSize * bytes, 64);
        s.fill((byte) 0xff); // NaN in both types: reading a position past the causal limit would show
        for (int t = 0; t < positions; t++) {
            for (int h = 0; h < nKv; h++) {
                long at = order.offset(t, h, nKv, headSize, capacity);
                for (int i = 0; i < headSize; i++) {
                    float v = src[(t * nKv + h) * headSize + i];
                    if (type == WeightType.F16) s.setAtIndex(JAVA_SHORT, at + i, Float.floatToFloat16(v));
                    else s.setAtIndex(JAVA_FLOAT, at + i, v);
                }
            }
        }
        return s;
    }
}
