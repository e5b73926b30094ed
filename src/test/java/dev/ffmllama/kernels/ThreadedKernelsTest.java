package dev.ffmllama.kernels;

import dev.ffmllama.tensor.WeightType;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kernels bound to several threads ({@link Backend#kernels(int)}) compute what the single-threaded
 * ones do: matmul split by output rows and attention split by heads give bit-identical results
 * (each output element is still computed by one thread, in the same order; the vector backend up to
 * the last bit, see assertAgrees); OpenBLAS agrees to
 * float rounding. Segments of a confined arena, which other threads cannot touch, are computed on the
 * calling thread alone.
 */
class ThreadedKernelsTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void matmulMatchesOneThread(Backend backend) {
        // sizes on both sides of the split threshold, odd output counts, batched rows
        int[][] shapes = {{1, 64, 64}, {1, 288, 288}, {1, 288, 771}, {3, 300, 513}, {16, 288, 768}};
        for (int[] s : shapes) {
            int rows = s[0], in = s[1], out = s[2];
            float[] w = TestData.random(out * in, 0, 1, out + in);
            float[] x = TestData.random(rows * in, 0, 1, rows);
            float[] single = matmul(backend.kernels(), w, x, rows, in, out);
            for (int threads : new int[] {2, 3}) {
                try (SessionKernels k = backend.kernels(threads)) {
                    float[] split = matmul(k.kernels(), w, x, rows, in, out);
                    if (backend != Backend.JAVA) {
                        // OpenBLAS blocks differently per thread count; the Vector API's float reduceLanes(ADD)
                        // may reorder lanes once C2 intrinsifies it, so the last bit can depend on JIT state
                        TestData.assertClose("matmul " + rows + "x" + in + "x" + out + " t" + threads,
                                Reference.toDouble(single), split, 1e-4, 1e-5);
                    } else {
                        assertAgrees(backend, "matmul " + rows + "x" + in + "x" + out + " t" + threads, single, split);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void attentionMatchesOneThread(Backend backend) {
        // {rows, pos0, nHeads, nKvHeads, headSize}: decode steps late in the context, a prefill, GQA
        int[][] shapes = {{1, 200, 6, 6, 48}, {1, 500, 8, 2, 64}, {32, 0, 6, 6, 48}, {1, 3, 2, 1, 8}};
        for (int[] s : shapes) {
            int rows = s[0], pos0 = s[1], nHeads = s[2], nKv = s[3], headSize = s[4];
            int positions = pos0 + rows;
            float[] q = TestData.random(rows * nHeads * headSize, 0, 1, 1);
            float[] keys = TestData.random(positions * nKv * headSize, 0, 1, 2);
            float[] values = TestData.random(positions * nKv * headSize, 0, 1, 3);
            float[] single = attention(backend.kernels(), q, keys, values, rows, pos0, nHeads, nKv, headSize);
            try (SessionKernels k = backend.kernels(2)) {
                float[] split = attention(k.kernels(), q, keys, values, rows, pos0, nHeads, nKv, headSize);
                String what = "attention " + java.util.Arrays.toString(s);
                // native: each kv head's share is the same C loop either way, so bit-identical
                if (backend == Backend.NATIVE) assertArrayEquals(single, split, what);
                else assertAgrees(backend, what, single, split);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void threadCountsAndChecks(Backend backend) {
        try (SessionKernels one = backend.kernels(1)) {
            assertSame(backend.kernels(), one.kernels(), "one thread shares the backend's kernels");
            assertEquals(0, one.workerThreads().length);
        }
        try (SessionKernels two = backend.kernels(2)) {
            assertEquals(1, two.workerThreads().length,
                    "every backend has its own pool (native: for typed-weight matmuls; F32 goes to OpenBLAS's threads)");
            assertEquals(backend, two.kernels().backend());
            // the threaded kernels validate like the shared ones
            assertThrows(IllegalArgumentException.class,
                    () -> two.kernels().matmul(MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, 1, 4, 4));
        }
        assertThrows(IllegalArgumentException.class, () -> backend.kernels(0));
    }

    /** Q8_0/Q4_0/F16 matmuls split by output rows give the one-thread result (same kernel per row). */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void typedMatmulMatchesOneThread(Backend backend) {
        int[][] shapes = {{1, 288, 771}, {5, 256, 300}};
        for (dev.ffmllama.tensor.WeightType type : new dev.ffmllama.tensor.WeightType[] {
                dev.ffmllama.tensor.WeightType.Q8_0, dev.ffmllama.tensor.WeightType.Q4_0,
                dev.ffmllama.tensor.WeightType.F16}) {
            for (int[] s : shapes) {
                int rows = s[0], in = s[1], out = s[2];
                float[] w = TestData.random(out * in, 0, 1, out + in);
                float[] x = TestData.random(rows * in, 0, 1, rows);
                try (Arena arena = Arena.ofShared(); SessionKernels two = backend.kernels(2)) {
                    MemorySegment wf = TestData.segment(arena, w);
                    MemorySegment wq = arena.allocate(type.byteSize(out, in), 64);
                    Quantization.quantize(type, wf, wq, (long) out * in);
                    MemorySegment xs = TestData.segment(arena, x);
                    MemorySegment y1 = arena.allocate((long) rows * out * Float.BYTES, 64);
                    MemorySegment y2 = arena.allocate((long) rows * out * Float.BYTES, 64);
                    backend.kernels().matmul(type, wq, xs, y1, rows, in, out);
                    two.kernels().matmul(type, wq, xs, y2, rows, in, out);
                    TestData.assertClose(type + " matmul " + rows + "x" + in + "x" + out,
                            Reference.toDouble(TestData.floats(y1)), TestData.floats(y2), 1e-5, 1e-4); // sums of ~256 terms of size ~1
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Backend.class, names = {"VECTOR", "JAVA"})
    void confinedSegmentsRunOnTheCallingThread(Backend backend) {
        int rows = 1, in = 288, out = 288;
        float[] w = TestData.random(out * in, 0, 1, 5);
        float[] x = TestData.random(rows * in, 0, 1, 6);
        float[] expected = matmul(backend.kernels(), w, x, rows, in, out);
        try (SessionKernels k = backend.kernels(2); Arena confined = Arena.ofConfined()) {
            MemorySegment y = confined.allocate((long) rows * out * Float.BYTES, 64);
            k.kernels().matmul(TestData.segment(confined, w), TestData.segment(confined, x), y, rows, in, out);
            assertAgrees(backend, "confined matmul", expected, TestData.floats(y));
        }
    }

    /**
     * Scalar Java: bit-identical. Vector: the Vector API leaves the order of a float lane reduction
     * unspecified, and it differs between interpreted and C2-compiled code, so the last bit may too.
     */
    private static void assertAgrees(Backend backend, String what, float[] expected, float[] got) {
        if (backend == Backend.JAVA) assertArrayEquals(expected, got, what);
        else TestData.assertClose(what, Reference.toDouble(expected), got, 1e-5, 1e-5);
    }

    /**
     * Wᵀ-stored weights: one row is split by inputs on native (partial sums added afterwards), a batch by
     * output columns; both agree with one thread and with the float64 product.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void transposedMatmulMatchesOneThread(Backend backend) {
        // below and above the split threshold; in = 40 gives 3 threads fewer than 16 inputs each (split by
        // outputs instead); odd sizes so the shares differ in length
        int[][] shapes = {{1, 64, 64}, {1, 40, 2049}, {1, 288, 288}, {1, 771, 300}, {1, 768, 32000}, {3, 300, 513},
                {16, 288, 768}};
        for (int[] s : shapes) {
            int rows = s[0], in = s[1], out = s[2];
            float[] w = TestData.random(out * in, 0, 1, out + 3 * in); // W [out, in]
            float[] wt = new float[in * out];                           // Wᵀ [in, out], what the kernels read
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
            }
            float[] x = TestData.random(rows * in, 0, 1, rows + 1);
            double[] exact = Reference.matmul(w, x, rows, in, out);
            // float32 sums of `in` products of N(0, 1) values: the rounding error grows with in (and the
            // Java backends accumulate in one order, OpenBLAS in blocks)
            double atol = 2e-7 * in;
            float[] single = matmulTransposed(backend.kernels(), wt, x, rows, in, out);
            TestData.assertClose("matmulT " + rows + "x" + in + "x" + out + " t1", exact, single, 1e-4, atol);
            for (int threads : new int[] {2, 3}) {
                try (SessionKernels k = backend.kernels(threads)) {
                    float[] split = matmulTransposed(k.kernels(), wt, x, rows, in, out);
                    String what = "matmulT " + rows + "x" + in + "x" + out + " t" + threads;
                    TestData.assertClose(what, exact, split, 1e-4, atol);
                    TestData.assertClose(what + " vs t1", Reference.toDouble(single), split, 1e-4, atol);
                    // the same session again: reused partial sums and pointers give the same result
                    assertArrayEquals(split, matmulTransposed(k.kernels(), wt, x, rows, in, out), what + " repeated");
                }
            }
        }
    }

    /**
     * The operand views a split keeps for its BLAS calls belong to the session's kernels: once those are
     * closed and dropped, an automatic arena's segments that went through them can be freed.
     */
    @org.junit.jupiter.api.Test
    void splitMatmulsDoNotKeepTheirOperandsReachable() throws InterruptedException {
        java.lang.ref.WeakReference<MemorySegment> weights = useAutomaticSegmentsOnTwoThreads();
        for (int i = 0; i < 50 && weights.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertSame(null, weights.get(), "the weight segment is still reachable after its session was closed");
    }

    private static java.lang.ref.WeakReference<MemorySegment> useAutomaticSegmentsOnTwoThreads() {
        int in = 512, out = 512;
        Arena auto = Arena.ofAuto();
        MemorySegment wt = TestData.segment(auto, TestData.random(in * out, 0, 1, 5));
        MemorySegment x = TestData.segment(auto, TestData.random(in, 0, 1, 6));
        MemorySegment y = auto.allocate((long) out * Float.BYTES, 64);
        try (SessionKernels k = Backend.NATIVE.kernels(2)) {
            k.kernels().matmulTransposed(wt, x, y, 1, in, out); // split by inputs
            k.kernels().matmul(wt, x, y, 1, in, out);           // split by outputs
        }
        return new java.lang.ref.WeakReference<>(wt);
    }

    private static float[] matmulTransposed(Kernels k, float[] wt, float[] x, int rows, int in, int out) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment y = arena.allocate((long) rows * out * Float.BYTES, 64);
            y.fill((byte) 0x7f); // stale values must not leak into the result
            k.matmulTransposed(TestData.segment(arena, wt), TestData.segment(arena, x), y, rows, in, out);
            return TestData.floats(y);
        }
    }

    private static float[] matmul(Kernels k, float[] w, float[] x, int rows, int in, int out) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment y = arena.allocate((long) rows * out * Float.BYTES, 64);
            k.matmul(TestData.segment(arena, w), TestData.segment(arena, x), y, rows, in, out);
            return TestData.floats(y);
        }
    }

    private static float[] attention(Kernels k, float[] q, float[] keys, float[] values, int rows, int pos0,
                                     int nHeads, int nKv, int headSize) {
        try (Arena arena = Arena.ofShared()) {
            int positions = pos0 + rows;
            MemorySegment out = arena.allocate((long) rows * nHeads * headSize * Float.BYTES, 64);
            MemorySegment scratch = arena.allocate((long) nHeads * positions * Float.BYTES, 64);
            // the forward pass's entry point (native splits it by kv heads, the Java backends by heads)
            k.attention(KvOrder.TOKEN_MAJOR, WeightType.F32, TestData.segment(arena, q), TestData.segment(arena, keys),
                    TestData.segment(arena, values), out, scratch, rows, pos0, nHeads, nKv, headSize, positions);
            return TestData.floats(out);
        }
    }
}
