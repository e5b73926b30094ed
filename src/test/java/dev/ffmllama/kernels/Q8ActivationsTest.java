package dev.ffmllama.kernels;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.LoadOptions;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.SharedData;
import dev.ffmllama.bindings.kernels.ffmllama_quant_h;
import dev.ffmllama.format.Npy;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The opt-in Q8_0-activation mode of {@link NativeKernels} (llama.cpp's CPU scheme): Q8_0 / Q4_0 matmuls
 * against a float64 reference over the dequantized weights times the dequantized Q8_0(x) (the integer
 * block dots are exact, so the tolerance is float32 rounding), on one thread and split over two; and
 * the tiny32 Q8_0 model's logits against llama.cpp's own.
 */
class Q8ActivationsTest {

    @AfterEach
    void restoreDefault() {
        NativeKernels.useQ8Activations(false);
    }

    @ParameterizedTest(name = "{0} rows={1} in={2} out={3} threads={4}")
    @CsvSource({
        "Q8_0, 1, 288, 37, 1", "Q8_0, 1, 768, 300, 2", "Q8_0, 5, 288, 300, 1", "Q8_0, 5, 288, 300, 2",
        "Q8_0, 1, 32, 1, 1", "Q4_0, 1, 288, 37, 1", "Q4_0, 3, 1056, 130, 2", "Q4_0, 17, 96, 9, 1"})
    void matchesFloat64ReferenceOverQuantizedActivations(WeightType type, long rows, long in, long out,
                                                         int threads) {
        NativeKernels.useQ8Activations(true);
        try (SessionKernels session = Backend.NATIVE.kernels(threads);
             Arena arena = Arena.ofShared()) { // shared: the split runs only on segments workers can read
            Kernels k = session.kernels();
            Random rnd = new Random(17 * in + out + rows);
            MemorySegment wf = gaussians(arena, out * in, rnd, 1.0);
            MemorySegment w = arena.allocate(type.byteSize(out, in) + 1, 64).asSlice(1); // unaligned blocks
            for (long o = 0; o < out; o++) {
                Quantization.quantize(type, wf.asSlice(o * in * 4, in * 4), w.asSlice(o * type.rowBytes(in)), in);
            }
            MemorySegment wd = arena.allocate(out * in * 4, 64);
            Quantization.dequantize(type, w, wd, out * in);
            MemorySegment x = gaussians(arena, rows * in, rnd, 3.0);
            // what the kernel multiplies with: x rounded to Q8_0 by the activation quantizer
            MemorySegment xq = arena.allocate(WeightType.Q8_0.byteSize(rows, in));
            ffmllama_quant_h.ffm_quantize_rows_q8_0(x, xq, rows * in);
            MemorySegment xd = arena.allocate(rows * in * 4, 64);
            Quantization.dequantize(WeightType.Q8_0, xq, xd, rows * in);
            MemorySegment y = arena.allocate(rows * out * 4, 64);
            y.fill((byte) 0x7f); // garbage: every output must be written

            k.matmul(type, w, x, y, rows, in, out);

            double worstExact = 0; // how far the result is from the float32-x matmul: proves x was rounded
            for (long r = 0; r < rows; r++) {
                for (long o = 0; o < out; o++) {
                    double ref = 0, magnitude = 0, exact = 0;
                    for (long j = 0; j < in; j++) {
                        double wv = wd.getAtIndex(JAVA_FLOAT, o * in + j);
                        double p = wv * xd.getAtIndex(JAVA_FLOAT, r * in + j);
                        ref += p;
                        magnitude += Math.abs(p);
                        exact += wv * x.getAtIndex(JAVA_FLOAT, r * in + j);
                    }
                    float got = y.getAtIndex(JAVA_FLOAT, r * out + o);
                    double tolerance = 1e-5 * magnitude + 1e-30;
                    if (!(Math.abs(got - ref) <= tolerance)) {
                        throw new AssertionError(type + " y[" + r + ", " + o + "] = " + got
                                + " but the float64 reference over Q8_0(x) is " + ref + " (tolerance " + tolerance + ")");
                    }
                    worstExact = Math.max(worstExact, Math.abs(got - exact) / (magnitude + 1e-30));
                }
            }
            assertTrue(worstExact > 1e-5, "results equal the float32-activation matmul: x was not quantized");
        }
    }

    /** The default stays the exact float32-activation path (the property is not set under surefire). */
    @Test
    void offByDefault() {
        assertEquals(false, NativeKernels.q8Activations());
    }

    /**
     * tiny32-q8_0 logits (64 positions; batched prefill and token by token, 1 and 2 threads) within 0.5 max
     * abs of llama.cpp's, which quantizes activations the same way (its README: even a bit-faithful
     * re-implementation differs by up to ~0.15, since one rounding flip decorrelates the later noise).
     */
    @ParameterizedTest(name = "batch {0} threads {1}")
    @CsvSource({"64, 1", "1, 1", "64, 2", "1, 2"})
    void tiny32LogitsMatchLlamaCpp(int batch, int threads) {
        int[] tokens = Npy.readIds(SharedData.golden("quant/tiny32__tokens.npy"));
        float[] llamaCpp;
        try (Tensor ref = Npy.readFloats(SharedData.golden("quant/tiny32-q8_0__logits.npy"))) {
            llamaCpp = ref.toFloatArray();
        }
        float[] exactActivations = logits(tokens, batch, threads);
        NativeKernels.useQ8Activations(true);
        float[] q8Activations = logits(tokens, batch, threads);
        assertEquals(llamaCpp.length, q8Activations.length);
        float worst = 0, moved = 0;
        for (int i = 0; i < q8Activations.length; i++) {
            worst = Math.max(worst, Math.abs(q8Activations[i] - llamaCpp[i]));
            moved = Math.max(moved, Math.abs(q8Activations[i] - exactActivations[i]));
        }
        assertTrue(worst <= 0.5f, "max abs difference from llama.cpp " + worst + " > 0.5");
        assertTrue(moved > 1e-3f, "Q8_0 activations did not change the logits (" + moved + "): mode not applied");
    }

    private static float[] logits(int[] tokens, int batch, int threads) {
        try (Model model = Model.load(SharedData.golden("quant/tiny32-q8_0.gguf"), LoadOptions.defaults());
             Session session = model.newSession(SessionOptions.defaults().withBackend(Backend.NATIVE)
                     .withPrefillBatch(batch).withThreads(threads));
             Tensor logits = session.logits(tokens)) {
            return logits.toFloatArray();
        }
    }

    private static MemorySegment gaussians(Arena arena, long n, Random rnd, double scale) {
        MemorySegment s = arena.allocate(n * 4, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, (float) (rnd.nextGaussian() * scale));
        return s;
    }
}
