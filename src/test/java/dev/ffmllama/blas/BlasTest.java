package dev.ffmllama.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The linear layer on OpenBLAS against a naive double-precision reference, plus the OpenBLAS extras. */
class BlasTest {
    private static Blas blas;

    @BeforeAll
    static void load() {
        blas = Blas.get();
    }

    @ParameterizedTest(name = "rows={0} in={1} out={2}")
    @CsvSource({"1, 5, 3", "7, 5, 3", "1, 33, 17", "7, 33, 17", "2, 1, 1", "1, 64, 1", "5, 1, 9"})
    void linearMatchesNaiveReference(int rows, int in, int out) {
        Random random = new Random(31L * rows + 7L * in + out);
        float[] w = gaussian(random, out * in);
        float[] x = gaussian(random, rows * in);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * out);
            ys.fill((byte) 0x7f); // garbage: beta = 0 must overwrite it, not accumulate
            blas.linear(ws, xs, ys, rows, in, out);
            float[] y = ys.toArray(ValueLayout.JAVA_FLOAT);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double sum = 0;
                    double magnitude = 0;
                    for (int i = 0; i < in; i++) {
                        double term = (double) x[r * in + i] * w[o * in + i];
                        sum += term;
                        magnitude += Math.abs(term);
                    }
                    assertEquals(sum, y[r * out + o], 1e-6 * magnitude + 1e-7, "y[" + r + "][" + o + "]");
                }
            }
        }
    }

    /** An output range of W or Wᵀ writes exactly those outputs, as the whole-matrix product does (one row and a batch). */
    @ParameterizedTest(name = "rows={5} in={0} out={1} [{2}, {3}) transposed={4}")
    @CsvSource({"33, 17, 0, 17, false, 1", "33, 17, 5, 12, false, 1", "33, 17, 16, 17, true, 1", "33, 17, 3, 9, true, 1",
                "1, 40, 0, 20, true, 1", "64, 1, 0, 1, false, 1", "33, 17, 5, 12, false, 3", "33, 17, 3, 9, true, 3",
                "70, 130, 64, 130, true, 7"})
    void outputRangesMatchTheNaiveReference(int in, int out, int from, int to, boolean transposed, int rows) {
        Random random = new Random(17L * in + out + from);
        float[] w = gaussian(random, out * in);
        float[] x = gaussian(random, rows * in);
        float[] stored = new float[out * in]; // W [out, in] or Wᵀ [in, out]
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) stored[transposed ? i * out + o : o * in + i] = w[o * in + i];
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, stored);
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * out);
            ys.fill((byte) 0x7f);
            blas.linearOutputs(transposed, ws, xs, ys, rows, in, out, from, to, new SubViews());
            float[] y = ys.toArray(ValueLayout.JAVA_FLOAT);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    float got = y[r * out + o];
                    if (o < from || o >= to) {
                        assertEquals(Float.intBitsToFloat(0x7f7f7f7f), got, "output " + r + "," + o + " is outside the range");
                        continue;
                    }
                    double expected = 0;
                    for (int i = 0; i < in; i++) expected += (double) w[o * in + i] * x[r * in + i];
                    assertEquals(expected, got, 1e-4 * (1 + Math.abs(expected)), "output " + r + "," + o);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> blas.linearOutputs(transposed, ws, xs, ys, 1, in, out, 0, out + 1, new SubViews()));
            assertThrows(IllegalArgumentException.class, () -> blas.linearOutputs(transposed, ws, xs, ys, 1, in, out, 3, 3, new SubViews()));
            assertThrows(IllegalArgumentException.class, () -> blas.linearOutputs(transposed, ws.asSlice(4), xs, ys, 1, in, out, 0, 1, new SubViews()));
        }
    }

    /** A block of Wᵀ's input rows gives that block's partial products; the blocks' partials add up to W·x. */
    @ParameterizedTest(name = "in={0} out={1} split at {2}")
    @CsvSource({"33, 17, 16", "768, 300, 384", "5, 1, 1", "64, 2049, 63"})
    void inputBlocksOfTheTransposedWeightAddUpToTheProduct(int in, int out, int split) {
        Random random = new Random(31L * in + out);
        float[] w = gaussian(random, out * in);
        float[] x = gaussian(random, in);
        float[] wt = new float[in * out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
        }
        SubViews views = new SubViews();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, wt);
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment lo = arena.allocate(ValueLayout.JAVA_FLOAT, out), hi = arena.allocate(ValueLayout.JAVA_FLOAT, out);
            lo.fill((byte) 0x7f);
            hi.fill((byte) 0x7f);
            blas.linearInputsTransposed(ws, xs, lo, in, out, 0, split, views);
            blas.linearInputsTransposed(ws, xs, hi, in, out, split, in, views);
            for (int o = 0; o < out; o++) {
                double low = 0, high = 0;
                for (int i = 0; i < in; i++) {
                    double term = (double) w[o * in + i] * x[i];
                    if (i < split) low += term;
                    else high += term;
                }
                float gotLow = lo.getAtIndex(ValueLayout.JAVA_FLOAT, o), gotHigh = hi.getAtIndex(ValueLayout.JAVA_FLOAT, o);
                assertEquals(low, gotLow, 1e-4 * (1 + Math.abs(low)), "inputs [0, " + split + ") output " + o);
                assertEquals(high, gotHigh, 1e-4 * (1 + Math.abs(high)), "inputs [" + split + ", " + in + ") output " + o);
            }
            assertThrows(IllegalArgumentException.class, () -> blas.linearInputsTransposed(ws, xs, lo, in, out, 0, in + 1, views));
            assertThrows(IllegalArgumentException.class, () -> blas.linearInputsTransposed(ws, xs, lo, in, out, split, split, views));
            assertThrows(IllegalArgumentException.class,
                    () -> blas.linearInputsTransposed(ws.asSlice(4), xs, lo, in, out, 0, split, views));
            assertThrows(IllegalArgumentException.class,
                    () -> blas.linearInputsTransposed(ws, xs, lo.asSlice(4), in, out, 0, split, views));
        }
    }

    @Test
    void badArgumentsAreRejectedBeforeTheNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, 15);
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 5);
            MemorySegment y = arena.allocate(ValueLayout.JAVA_FLOAT, 3);
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                    () -> blas.linear(w, x, y, 1, 5, 4));
            assertTrue(small.getMessage().contains("weight"), small.getMessage());
            assertThrows(IllegalArgumentException.class, () -> blas.linear(w, x, y, 0, 5, 3));
            assertThrows(IllegalArgumentException.class, () -> blas.linear(w, x, y, 1, 1L << 31, 3));
            IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                    () -> blas.linear(MemorySegment.ofArray(new float[15]), x, y, 1, 5, 3));
            assertTrue(heap.getMessage().contains("heap"), heap.getMessage());
        }
    }

    @Test
    void threadCountRoundTrips() {
        int original = blas.threads().orElseThrow();
        try {
            blas.setThreads(1);
            assertEquals(1, blas.threads().getAsInt());
            blas.setThreads(2);
            assertEquals(2, blas.threads().getAsInt());
        } finally {
            blas.setThreads(original);
        }
        assertEquals(original, blas.threads().getAsInt());
        assertThrows(IllegalArgumentException.class, () -> blas.setThreads(0));
    }

    @Test
    void bundledOpenBlasDescribesItself() {
        assertTrue(blas.isBundled());
        assertTrue(Files.isRegularFile(blas.libraryPath()));
        assertEquals(BlasLibrary.OPENBLAS, blas.libraryPath().getFileName().toString());
        assertTrue(blas.config().startsWith("OpenBLAS"), blas.config());
    }

    private static float[] gaussian(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) random.nextGaussian();
        return a;
    }
}
