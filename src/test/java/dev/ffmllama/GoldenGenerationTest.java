package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ffmllama.kernels.Backend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy generation equals llama2.c's run.c token for token and byte for byte, from both the
 * llama2.c checkpoint and its GGUF conversion, on every backend.
 */
class GoldenGenerationTest {
    record Case(String slug, String prompt, int steps) {
        @Override
        public String toString() {
            return slug;
        }
    }

    static final List<Case> CASES = List.of(
            new Case("once-upon-a-time", "Once upon a time", 200),
            new Case("lily-and-tom-went-to-the-park", "Lily and Tom went to the park", 200),
            new Case("the-little-robot", "The little robot", 200),
            new Case("no-prompt_n256", "", 256));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String file : List.of("stories260K.bin", "stories260K.gguf")) {
            for (Backend b : Backend.values()) {
                for (Case c : CASES) out.add(Arguments.of(file, b, c, 1));
            }
        }
        // two threads: the prompt's batched matmuls are split over the session's pool (64-wide rows times
        // a 5+-token prompt pass the split threshold), and so is attention
        for (Backend b : Backend.values()) {
            for (Case c : CASES) out.add(Arguments.of("stories260K.bin", b, c, 2));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} threads={3}")
    @MethodSource("cases")
    void greedyMatchesRunC(String file, Backend backend, Case c, int threads) throws IOException {
        Path modelPath = SharedData.model(file);
        Path tok = file.endsWith(".bin") ? SharedData.model("tok512.bin") : null;
        try (Model model = Model.load(modelPath, tok);
             Session session = model.newSession(SessionOptions.defaults().withBackend(backend).withThreads(threads).greedy())) {
            int[] prompt = model.tokenizer().encode(c.prompt(), true, false);
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            for (int i = 1; i < prompt.length; i++) model.tokenizer().decode(prompt[i - 1], prompt[i], text);
            GenerationResult r = session.generate(prompt, GenerationLimits.ofSteps(c.steps(), prompt.length),
                    (token, pos) -> {
                        try {
                            model.tokenizer().decode(session.tokenAt(pos - 1), token, text);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        return true;
                    });
            text.write('\n');
            String expectedText = Files.readString(SharedData.golden("llama2c/stories260K__" + c.slug() + ".txt"),
                    StandardCharsets.UTF_8);
            assertEquals(expectedText, text.toString(StandardCharsets.UTF_8));
            Path ids = SharedData.golden("llama2c/stories260K__" + c.slug() + ".tokens.i32");
            if (Files.exists(ids)) assertArrayEquals(SharedData.readInt32(ids), r.tokens());
        }
    }
}
