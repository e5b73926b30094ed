package dev.ffmllama.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Wiring of the native backend (critical handles, NULL optional operands, BLAS dispatch). The full
 * kernel-vs-reference contract is covered by the backend-parameterized kernel tests.
 */
class NativeKernelsTest {

    @Test
    void backendHandsOutTheCheckedWrapper() {
        Kernels kernels = Backend.NATIVE.kernels();
        assertInstanceOf(CheckedKernels.class, kernels);
        assertSame(Backend.NATIVE, kernels.backend());
        assertSame(kernels, Backend.NATIVE.kernels());
    }

    @Test
    void criticalNoopAndLayernormWithNullAffineParameters() {
        NativeKernels raw = new NativeKernels();
        raw.noop();
        float[] x = {1, 2, 3, 4, 10, 10, 10, 13};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, x.length);
            raw.layernorm(xs, null, null, ys, 2, 4, 1e-5f);
            float[] y = ys.toArray(ValueLayout.JAVA_FLOAT);
            for (int r = 0; r < 2; r++) {
                double mean = 0;
                double var = 0;
                for (int i = 0; i < 4; i++) mean += x[r * 4 + i] / 4.0;
                for (int i = 0; i < 4; i++) var += (x[r * 4 + i] - mean) * (x[r * 4 + i] - mean) / 4.0;
                for (int i = 0; i < 4; i++) {
                    assertEquals((x[r * 4 + i] - mean) / Math.sqrt(var + 1e-5), y[r * 4 + i], 1e-5);
                }
            }
        }
    }

    @Test
    void matmulGoesThroughBlas() {
        NativeKernels raw = new NativeKernels();
        // W [2, 3], x [2, 3] -> y [2, 2] = x · Wᵀ
        float[] w = {1, 0, 2, -1, 3, 1};
        float[] x = {1, 1, 1, 2, 0, -1};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, 4);
            raw.matmul(arena.allocateFrom(ValueLayout.JAVA_FLOAT, w), arena.allocateFrom(ValueLayout.JAVA_FLOAT, x),
                    ys, 2, 3, 2);
            float[] expected = {3, 3, 0, -3};
            for (int i = 0; i < 4; i++) assertEquals(expected[i], ys.getAtIndex(ValueLayout.JAVA_FLOAT, i), 1e-6f);
        }
    }

    @Test
    void heapSegmentsAreRefusedByTheCriticalHandlesInsteadOfCrashing() {
        NativeKernels raw = new NativeKernels();
        float[] heap = new float[4];
        assertThrows(IllegalArgumentException.class,
                () -> raw.add(MemorySegment.ofArray(heap), MemorySegment.ofArray(heap), MemorySegment.ofArray(heap), 4));
    }
}
