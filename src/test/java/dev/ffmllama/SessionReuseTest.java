package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.kernels.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A session keeps one sampler for all its generations and reseeds it each time: the same seeded
 * call on a reused session gives the tokens of a fresh session, every time.
 */
class SessionReuseTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void seededGenerationsRepeatOnOneSession(Backend backend) throws Exception {
        SessionOptions options = SessionOptions.defaults().withBackend(backend).withTemperature(1f).withSeed(1234);
        GenerationLimits limits = new GenerationLimits(60, false);
        try (Model model = Model.load(SharedData.model("stories260K.bin"), SharedData.model("tok512.bin"))) {
            int[] fresh;
            try (Session s = model.newSession(options)) {
                fresh = s.generate("Once upon a time", limits, (t, p) -> true).tokens();
            }
            try (Session s = model.newSession(options)) {
                int[] first = s.generate("Once upon a time", limits, (t, p) -> true).tokens();
                int[] second = s.generate("Once upon a time", limits, (t, p) -> true).tokens();
                assertArrayEquals(fresh, first, "first generation on a new session");
                assertArrayEquals(fresh, second, "second generation on the same session");
            }
            try (Session s = model.newSession(options.withSeed(99))) {
                int[] other = s.generate("Once upon a time", limits, (t, p) -> true).tokens();
                assertTrue(!java.util.Arrays.equals(fresh, other), "another seed draws another text");
            }
        }
    }
}
