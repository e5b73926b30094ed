package dev.ffmllama.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.SharedData;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.synth.SynthSpec;
import dev.ffmllama.synth.SyntheticModel;
import dev.ffmllama.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every norm type × placement: a small random model (synth, with jittered norm weights and biases
 * so they matter) run by each backend gives the logits of the test's own float64 reference
 * ({@link ReferenceDecoder}) to 1e-4, at every position of a prompt fed as one batched prefill and
 * then token by token.
 */
class NormVariantsTest {
    static final double TOLERANCE = 1e-4;
    static final int[] TOKENS = {1, 403, 87, 261, 15, 499, 3, 300, 42};

    @TempDir
    static Path dir;

    static Stream<Arguments> variants() {
        List<Arguments> all = new ArrayList<>();
        for (NormSpec.Type type : NormSpec.Type.values()) {
            for (NormSpec.Placement placement : NormSpec.Placement.values()) all.add(Arguments.of(type, placement));
        }
        return all.stream();
    }

    /** dim 32, hidden 48, 3 layers, 4 heads / 2 KV heads (GQA), stories260K's 512-token vocabulary. */
    static Path synth(NormSpec.Type type, NormSpec.Placement placement) throws Exception {
        Path out = dir.resolve(type.key() + "-" + placement.key() + ".gguf");
        SynthSpec spec = new SynthSpec(32, 48, 3, 4, 2, 0, 32, NormSpec.of(type, placement, 3), 7, 0.15, 0.2);
        SyntheticModel.write(spec, SharedData.model("stories260K.gguf"), out);
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("variants")
    void everyBackendMatchesTheFloat64Reference(NormSpec.Type type, NormSpec.Placement placement) throws Exception {
        Path file = synth(type, placement);
        double[][] expected = new double[TOKENS.length][];
        ReferenceDecoder reference = new ReferenceDecoder(file, TOKENS.length);
        try {
            for (int p = 0; p < TOKENS.length; p++) expected[p] = reference.step(TOKENS[p]);
        } finally {
            reference.close();
        }
        double largest = 0;
        for (double[] row : expected) for (double v : row) largest = Math.max(largest, Math.abs(v));
        assertTrue(largest > 0.5, "logits too small to test anything: max |logit| " + largest);

        try (Model model = Model.load(file)) {
            assertEquals(placement, model.config().normPlacement());
            assertEquals(type, model.config().normType());
            for (Backend backend : Backend.values()) {
                // prefill: every position in one batched forward pass
                try (Session session = model.newSession(SessionOptions.defaults().withBackend(backend).greedy());
                     Tensor logits = session.logits(TOKENS)) {
                    for (int p = 0; p < TOKENS.length; p++) {
                        assertClose(expected[p], logits.row(p).toFloatArray(), backend + " prefill, position " + p);
                    }
                }
                // decode: one token per forward pass (batch of 1)
                try (Session session = model.newSession(SessionOptions.defaults().withBackend(backend).greedy()
                        .withPrefillBatch(1))) {
                    try (Tensor logits = session.logits(TOKENS)) {
                        int last = TOKENS.length - 1;
                        assertClose(expected[last], logits.row(last).toFloatArray(), backend + " one token at a time");
                    }
                }
            }
        }
    }

    static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": vocabulary size");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        final int worstAt = at;
        final double worstDiff = worst;
        assertTrue(worst <= TOLERANCE, () -> what + ": logit " + worstAt + " differs by " + worstDiff + " (expected "
                + expected[worstAt] + ", got " + actual[worstAt] + ")");
    }
}
