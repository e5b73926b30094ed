package dev.ffmllama.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.function.Consumer;

/** Test inputs (seeded random and adversarial rows), off-heap copies, tolerant comparisons, backend gating. */
final class TestData {
    private TestData() {
    }

    /** Kinds of rows the contract tests feed the normalizations. */
    enum RowKind {
        RANDOM, ZEROS, CONSTANT,
        /** |x| ~ 1e20 with mixed signs: x² overflows float32, so float accumulation would fail. */
        HUGE,
        /** Signs alternate, magnitudes span 1e-3 .. 1e3. */
        MIXED
    }

    static float[] rows(RowKind kind, int rows, int d, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[rows * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (kind) {
                case RANDOM -> (float) rnd.nextGaussian();
                case ZEROS -> 0f;
                case CONSTANT -> 2.5f;
                case HUGE -> (float) ((rnd.nextBoolean() ? 1 : -1) * (1 + rnd.nextDouble()) * 1e20);
                case MIXED -> (float) ((i % 2 == 0 ? 1 : -1) * Math.pow(10, -3 + 6 * rnd.nextDouble()));
            };
        }
        return x;
    }

    static float[] random(int n, double mean, double sd, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (mean + sd * rnd.nextGaussian());
        return x;
    }

    static float[] uniform(int n, double lo, double hi, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return x;
    }

    /** An off-heap copy of {@code values} (null stays null: an absent optional operand). */
    static MemorySegment segment(Arena arena, float[] values) {
        if (values == null) return null;
        MemorySegment s = arena.allocate((long) Math.max(values.length, 1) * Float.BYTES, 64)
                .asSlice(0, (long) values.length * Float.BYTES);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
        return s;
    }

    static float[] floats(MemorySegment s) {
        return s.toArray(JAVA_FLOAT);
    }

    /**
     * Asserts |got - expected| <= atol + rtol * |expected| element-wise, where an expected value that
     * rounds to an infinite float must be matched exactly (a float kernel can only store infinity there).
     */
    static void assertClose(String what, double[] expected, float[] got, double rtol, double atol) {
        if (expected.length != got.length) fail(what + ": " + got.length + " values, expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            boolean ok = Float.isInfinite((float) e) ? got[i] == (float) e
                    : Math.abs(got[i] - e) <= atol + rtol * Math.abs(e);
            if (!ok) fail(what + "[" + i + "] = " + got[i] + ", expected " + e + " (rtol " + rtol + ", atol " + atol + ")");
        }
    }

    /** The backend's (checked) kernels; every backend must be available (a load failure fails the test). */
    static Kernels kernelsOf(Backend backend) {
        return backend.kernels();
    }

    /** Runs {@code call} on the backend's kernels. */
    static void onBackend(Backend backend, Consumer<Kernels> call) {
        call.accept(backend.kernels());
    }
}
