package dev.ffmllama.kernels;

import static dev.ffmllama.kernels.TestData.kernelsOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bad input is rejected with a message naming the operand, before any kernel runs: the inputs here would
 * make a native kernel read or write out of bounds, so reaching the kernel at all would be the bug.
 */
class CheckedKernelsTest {

    private static void assertRejected(Class<? extends RuntimeException> type, String messagePart, Executable call) {
        RuntimeException e = assertThrows(type, call);
        assertTrue(e.getMessage().contains(messagePart), "message '" + e.getMessage() + "' should mention '"
                + messagePart + "'");
    }

    private static MemorySegment floats(Arena arena, long n) {
        return arena.allocate(n * Float.BYTES, 64);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void segmentProblemsAreNamed(Backend backend) {
        Kernels k = kernelsOf(backend);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = floats(arena, 3 * 8);
            MemorySegment w = floats(arena, 8);
            MemorySegment y = floats(arena, 3 * 8);
            assertRejected(IllegalArgumentException.class, "y holds 16 floats",
                    () -> k.rmsnorm(x, w, floats(arena, 16), 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "weight holds 7 floats",
                    () -> k.rmsnorm(x, floats(arena, 7), y, 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "weight is required",
                    () -> k.rmsnorm(x, null, y, 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "heap segment",
                    () -> k.rmsnorm(MemorySegment.ofArray(new float[24]), w, y, 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "not float-aligned",
                    () -> k.layernorm(floats(arena, 25).asSlice(2, 96), null, null, y, 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "eps",
                    () -> k.layernorm(x, null, null, y, 3, 8, -1e-5f));
            assertRejected(IllegalArgumentException.class, "eps",
                    () -> k.rmsnorm(x, w, y, 3, 8, Float.NaN));
            assertRejected(IllegalArgumentException.class, "d must be > 0",
                    () -> k.rmsnorm(x, w, y, 3, 0, 1e-5f));
            assertRejected(IllegalArgumentException.class, "rows*d overflows",
                    () -> k.rmsnorm(x, w, y, Long.MAX_VALUE / 2, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "alpha",
                    () -> k.deepnorm(x, x, Float.POSITIVE_INFINITY, null, null, y, 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "momentum",
                    () -> k.batchnormTrain(x, null, null, w, w, y, 3, 8, 1e-5f, 1.5f));
            assertRejected(IllegalArgumentException.class, "running_var holds 7",
                    () -> k.batchnormInfer(x, w, floats(arena, 7), null, null, y, 3, 8, 1e-5f));
            assertRejected(IllegalArgumentException.class, "r_out holds 8",
                    () -> k.addRmsnorm(x, x, w, floats(arena, 8), y, 3, 8, 1e-5f));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void freedMemoryIsAnIllegalState(Backend backend) {
        Kernels k = kernelsOf(backend);
        MemorySegment w;
        MemorySegment y;
        Arena closed = Arena.ofConfined();
        MemorySegment x = floats(closed, 8);
        closed.close();
        try (Arena arena = Arena.ofConfined()) {
            w = floats(arena, 8);
            y = floats(arena, 8);
            assertRejected(IllegalStateException.class, "x has been freed", () -> k.rmsnorm(x, w, y, 1, 8, 1e-5f));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void zeroRowsIsANoOp(Backend backend) {
        Kernels k = kernelsOf(backend);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment empty = floats(arena, 0);
            k.rmsnorm(empty, floats(arena, 4), empty, 0, 4, 1e-5f); // must not throw, even on a stub backend
            k.add(empty, empty, empty, 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void attentionAndRopeArguments(Backend backend) {
        Kernels k = kernelsOf(backend);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = floats(arena, 2 * 4 * 8);
            MemorySegment cache = floats(arena, 5 * 2 * 8);
            MemorySegment out = floats(arena, 2 * 4 * 8);
            MemorySegment scratch = floats(arena, 4 * 5);
            assertRejected(IllegalArgumentException.class, "k_cache holds 80 floats (320 bytes) but (pos0+rows)*n_kv_heads*head_size = 96",
                    () -> k.attention(q, cache, floats(arena, 100), out, scratch, 2, 4, 4, 2, 8));
            assertRejected(IllegalArgumentException.class, "scratch holds 20 floats (80 bytes) but n_heads*(pos0+rows) = 24",
                    () -> k.attention(q, floats(arena, 100), floats(arena, 100), out, scratch, 2, 4, 4, 2, 8));
            assertRejected(IllegalArgumentException.class, "multiple of n_kv_heads",
                    () -> k.attention(q, cache, cache, out, scratch, 2, 3, 4, 3, 8));
            assertRejected(IllegalArgumentException.class, "out must not overlap q",
                    () -> k.attention(q, cache, cache, q, scratch, 2, 3, 4, 2, 8));
            assertRejected(IllegalArgumentException.class, "head_size must be even",
                    () -> k.rope(q, 2, 4, 7, 0, 10000f));
            assertRejected(IllegalArgumentException.class, "in must be > 0",
                    () -> k.matmul(q, q, out, 1, 0, 4));
            assertRejected(IllegalArgumentException.class, "weight holds 64 floats (256 bytes) but out*in = 72",
                    () -> k.matmul(q, q, out, 1, 8, 9));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void tensorLevelShapeAndDtypeChecks(Backend backend) {
        Kernels k = kernelsOf(backend);
        try (Tensor x = Tensor.allocate(DType.F32, 3, 8);
             Tensor y = Tensor.allocate(DType.F32, 3, 7);
             Tensor w = Tensor.allocate(DType.F32, 8);
             Tensor ids = Tensor.allocate(DType.I32, 3, 8)) {
            assertRejected(IllegalArgumentException.class, "y has shape [3, 7] but x has shape [3, 8]",
                    () -> k.rmsnorm(x, w, y, 1e-5f));
            assertRejected(IllegalArgumentException.class, "x has dtype I32",
                    () -> k.layernorm(ids, null, null, x, 1e-5f));
            assertRejected(IllegalArgumentException.class, "weight must have shape [7]",
                    () -> k.rmsnorm(y, w, y, 1e-5f));
        }
    }

    /** The checks do not touch the data: a valid call after rejected ones still works (java backend). */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Backend.class, names = {"JAVA", "VECTOR"})
    void rejectedCallsLeaveOutputsUntouched(Backend backend) {
        Kernels k = backend.kernels();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.segment(arena, new float[] {1, 2, 3, 4});
            MemorySegment y = TestData.segment(arena, new float[] {9, 9, 9, 9});
            assertThrows(IllegalArgumentException.class, () -> k.rmsnorm(x, floats(arena, 3), y, 1, 4, 1e-5f));
            assertArrayEquals(new float[] {9, 9, 9, 9}, TestData.floats(y));
        }
    }
}
