package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.format.Npy;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tensor.WeightType;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * F16 and Q8_0 GGUF models (tiny32: GQA, separate classifier, quantized embedding) against float64
 * forward passes over the exactly dequantized weights: with float32 activations we land within 5e-5
 * at every position, on every backend, in batched prefill and token by token. Also: converting
 * the F16 file's weights to F32 at load time gives the same logits (dequantization is exact).
 */
class QuantizedGoldenTest {
    static final float TOLERANCE = 5e-5f;

    @ParameterizedTest(name = "{0} {1} batch {2} weights {3}")
    @CsvSource({
        "f16, NATIVE, 64, ", "f16, VECTOR, 64, ", "f16, JAVA, 64, ", "f16, NATIVE, 1, ",
        "q8_0, NATIVE, 64, ", "q8_0, VECTOR, 64, ", "q8_0, JAVA, 64, ", "q8_0, NATIVE, 1, ", "q8_0, VECTOR, 1, ",
        "f16, NATIVE, 64, F32", "q8_0, VECTOR, 64, F32"})
    void logitsMatchTheFloat64Reference(String type, Backend backend, int batch, WeightType convert) {
        int[] tokens = Npy.readIds(SharedData.golden("quant/tiny32__tokens.npy"));
        float[] reference;
        try (Tensor ref = Npy.readFloats(SharedData.golden("quant/tiny32-" + type + "__ref64.npy"))) {
            reference = ref.toFloatArray();
        }
        try (Model model = Model.load(SharedData.golden("quant/tiny32-" + type + ".gguf"),
                LoadOptions.defaults().withWeights(convert));
             Session session = model.newSession(SessionOptions.defaults().withBackend(backend).withPrefillBatch(batch));
             Tensor logits = session.logits(tokens)) {
            float[] ours = logits.toFloatArray();
            assertEquals(reference.length, ours.length);
            float worst = 0;
            int at = -1;
            for (int i = 0; i < ours.length; i++) {
                float diff = Math.abs(ours[i] - reference[i]);
                if (!(diff <= worst)) {
                    worst = diff;
                    at = i;
                }
            }
            assertTrue(worst <= TOLERANCE, "max abs difference " + worst + " at position " + at / 512 + " token "
                    + at % 512 + " (tokens " + Arrays.toString(Arrays.copyOf(tokens, 4)) + "...)");
        }
    }
}
