package dev.ffmllama.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.bindings.kernels.ffmllama_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Smoke test of the jextract-generated bindings themselves, straight on the loaded library. */
class RawBindingsTest {

    private static NativeLibrary library;

    @BeforeAll
    static void load() {
        library = NativeLibrary.load();
    }

    @Test
    void noopAndVariantAreCallable() {
        ffmllama_h.ffm_noop();
        String variant = ffmllama_h.ffm_kernel_variant().getString(0);
        assertTrue(Set.of("avx512", "avx2", "baseline").contains(variant), variant);
        assertEquals(variant, library.kernelVariant());
        assertFalse(library.cpuFeatures().isBlank() && !variant.equals("baseline"),
                "a SIMD variant was chosen but no CPU features were reported");
    }

    @Test
    void unknownVariantIsRejectedAndCurrentOneKept() {
        String before = library.kernelVariant();
        assertFalse(library.setKernelVariant("sse1-from-1999"));
        assertEquals(before, library.kernelVariant());
    }

    /** RMSNorm through the generated wrapper, under every variant this CPU runs, against a double reference. */
    @Test
    void rmsnormMatchesDoubleReferenceInEveryVariant() {
        int rows = 3;
        int d = 37; // not a multiple of any SIMD width: exercises the tails
        float eps = 1e-5f;
        Random random = new Random(42);
        float[] x = new float[rows * d];
        float[] w = new float[d];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian() * 3;
        for (int i = 0; i < d; i++) w[i] = 0.5f + random.nextFloat();
        x[d] = 1e20f; // row 1 has a square that overflows float: the sum must be accumulated in double
        double[] expected = rmsnormReference(x, w, rows, d, eps);

        String original = library.kernelVariant();
        List<String> tried = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * d);
            for (String variant : List.of("baseline", "avx2", "avx512")) {
                if (!library.setKernelVariant(variant)) continue;
                tried.add(variant);
                ys.fill((byte) 0);
                ffmllama_h.ffm_rmsnorm(xs, ws, ys, rows, d, eps);
                float[] y = ys.toArray(ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < y.length; i++) {
                    assertEquals(expected[i], y[i], 1e-5 * Math.max(1, Math.abs(expected[i])),
                            variant + ": element " + i);
                }
            }
        } finally {
            assertTrue(library.setKernelVariant(original));
        }
        assertTrue(tried.contains("baseline"), "the baseline variant must always be available");
    }

    private static double[] rmsnormReference(float[] x, float[] w, int rows, int d, float eps) {
        double[] y = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            double sumSq = 0;
            for (int i = 0; i < d; i++) sumSq += (double) x[r * d + i] * x[r * d + i];
            double scale = 1.0 / Math.sqrt(sumSq / d + eps);
            for (int i = 0; i < d; i++) y[r * d + i] = x[r * d + i] * scale * w[i];
        }
        return y;
    }
}
