package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.kernels.Backend;
import dev.ffmllama.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Logits at every position within 1e-4 of run.c's, with the same argmax, for both file formats. */
class GoldenLogitsTest {
    static final float TOLERANCE = 1e-4f;

    @ParameterizedTest(name = "{0} {1} prefill batch {2}")
    @CsvSource({
        "stories260K.bin, NATIVE, 64", "stories260K.bin, VECTOR, 64", "stories260K.bin, JAVA, 64",
        "stories260K.gguf, NATIVE, 64", "stories260K.gguf, VECTOR, 64", "stories260K.gguf, JAVA, 64",
        "stories260K.bin, NATIVE, 1", "stories260K.bin, NATIVE, 7", "stories260K.bin, VECTOR, 1"})
    void logitsMatchRunC(String file, Backend backend, int batch) {
        int[] seq = SharedData.readInt32(SharedData.golden("llama2c/stories260K_seq_tokens.i32"));
        float[] golden = SharedData.readFloat32(SharedData.golden("llama2c/stories260K_seq_logits.f32"));
        int positions = golden.length / 512;
        int[] fed = Arrays.copyOf(seq, positions);
        Path tok = file.endsWith(".bin") ? SharedData.model("tok512.bin") : null;
        try (Model model = Model.load(SharedData.model(file), tok);
             Session session = model.newSession(SessionOptions.defaults().withBackend(backend).withPrefillBatch(batch));
             Tensor logits = session.logits(fed)) {
            float[] ours = logits.toFloatArray();
            assertEquals(golden.length, ours.length);
            float worst = 0;
            for (int p = 0; p < positions; p++) {
                int goldArg = 0, ourArg = 0;
                for (int i = 0; i < 512; i++) {
                    int idx = p * 512 + i;
                    worst = Math.max(worst, Math.abs(golden[idx] - ours[idx]));
                    if (golden[idx] > golden[p * 512 + goldArg]) goldArg = i;
                    if (ours[idx] > ours[p * 512 + ourArg]) ourArg = i;
                }
                assertEquals(goldArg, ourArg, "argmax at position " + p);
            }
            assertTrue(worst <= TOLERANCE, "max abs logit difference " + worst + " > " + TOLERANCE);
        }
    }

    @ParameterizedTest
    @CsvSource({"NATIVE", "VECTOR", "JAVA"})
    void bosLogitsMatchRunC(Backend backend) {
        float[] golden = SharedData.readFloat32(SharedData.golden("llama2c/stories260K_bos_logits.f32"));
        try (Model model = Model.load(SharedData.model("stories260K.bin"), SharedData.model("tok512.bin"));
             Session session = model.newSession(SessionOptions.defaults().withBackend(backend));
             Tensor logits = session.logits(new int[] {1})) {
            float[] ours = logits.toFloatArray();
            for (int i = 0; i < golden.length; i++) {
                assertEquals(golden[i], ours[i], TOLERANCE, "logit " + i);
            }
        }
    }
}
