package dev.ffmllama.kernels;

import static dev.ffmllama.kernels.TestData.assertClose;
import static dev.ffmllama.kernels.TestData.floats;
import static dev.ffmllama.kernels.TestData.onBackend;
import static dev.ffmllama.kernels.TestData.segment;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** softmax, silu_mul, add, RoPE, attention and matmul on every backend against the float64 reference. */
class ElementwiseAttentionContractTest {
    private static final int[] DIMS = {1, 7, 64, 1000, 4096};

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void softmax(Backend backend) {
        for (int d : DIMS) {
            int rows = 3;
            float[] x = TestData.random(rows * d, 0, 4, d);
            x[0] = 80f; // large logits: exp would overflow without the max subtraction
            onBackend(backend, k -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment xs = segment(arena, x);
                    k.softmax(xs, xs, rows, d); // in place
                    assertClose("softmax d=" + d, Reference.softmax(x, rows, d), floats(xs), 1e-5, 1e-7);
                }
            });
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void siluMulAndAdd(Backend backend) {
        for (int n : new int[] {1, 7, 64, 1000, 4099}) {
            float[] gate = TestData.random(n, 0, 3, n);
            float[] up = TestData.random(n, 0, 1, n + 1);
            onBackend(backend, k -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment g = segment(arena, gate);
                    MemorySegment u = segment(arena, up);
                    MemorySegment out = arena.allocate((long) n * Float.BYTES, 64);
                    k.siluMul(g, u, out, n);
                    assertClose("silu_mul n=" + n, Reference.siluMul(gate, up), floats(out), 1e-5, 1e-6);
                    k.add(g, u, u, n); // out aliases b
                    // a float add is the double sum rounded once: exact comparison
                    double[] sum = Reference.toDouble(Reference.toFloat(Reference.scaledAdd(1, gate, up)));
                    assertClose("add n=" + n, sum, floats(u), 0, 0);
                }
            });
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void rope(Backend backend) {
        int rows = 5;
        int nHeads = 3;
        int headSize = 16;
        int pos0 = 9;
        float theta = 10000f;
        float[] x = TestData.random(rows * nHeads * headSize, 0, 1, 3);
        onBackend(backend, k -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment xs = segment(arena, x);
                k.rope(xs, rows, nHeads, headSize, pos0, theta);
                assertClose("rope", Reference.rope(x, rows, nHeads, headSize, pos0, theta), floats(xs), 1e-5, 1e-6);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void attentionDecode(Backend backend) {
        checkAttention(backend, 1, 5);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void attentionPrefill(Backend backend) {
        checkAttention(backend, 6, 0);
        checkAttention(backend, 6, 3);
    }

    /** GQA with 4 query heads over 2 kv heads of size 8. */
    private static void checkAttention(Backend backend, int rows, int pos0) {
        int nHeads = 4;
        int nKv = 2;
        int headSize = 8;
        int positions = pos0 + rows;
        float[] q = TestData.random(rows * nHeads * headSize, 0, 1, 1);
        float[] kCache = TestData.random(positions * nKv * headSize, 0, 1, 2);
        float[] vCache = TestData.random(positions * nKv * headSize, 0, 1, 3);
        double[] expected = Reference.attention(q, kCache, vCache, rows, pos0, nHeads, nKv, headSize);
        onBackend(backend, k -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate((long) rows * nHeads * headSize * Float.BYTES, 64);
                out.fill((byte) 0x7f); // garbage (NaN-ish) that must be overwritten
                MemorySegment scratch = arena.allocate((long) nHeads * positions * Float.BYTES, 64);
                k.attention(segment(arena, q), segment(arena, kCache), segment(arena, vCache), out, scratch, rows,
                        pos0, nHeads, nKv, headSize);
                assertClose("attention rows=" + rows + " pos0=" + pos0, expected, floats(out), 1e-5, 1e-6);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void matmulOddShapes(Backend backend) {
        for (int rows : new int[] {1, 5}) {
            for (int[] inOut : new int[][] {{1, 1}, {7, 3}, {67, 33}, {300, 129}}) {
                int in = inOut[0];
                int out = inOut[1];
                float[] w = TestData.random(out * in, 0, 1, in);
                float[] x = TestData.random(rows * in, 0, 1, out);
                onBackend(backend, k -> {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment y = arena.allocate((long) rows * out * Float.BYTES, 64);
                        k.matmul(segment(arena, w), segment(arena, x), y, rows, in, out);
                        assertClose("matmul " + rows + "x" + in + "->" + out, Reference.matmul(w, x, rows, in, out),
                                floats(y), 1e-4, 1e-4);
                    }
                });
            }
        }
    }
}
