package dev.ffmllama.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.format.Npy;
import dev.ffmllama.tokenizer.Tokenizer;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The valid seeds really are valid: a fuzzer starting from files the parser rejects at the first
 * field would never reach the deeper sections. (Regenerate with dev.ffmllama.format.FuzzSeeds.)
 */
class SeedCorpusTest {
    @ParameterizedTest
    @ValueSource(strings = {"GgufFuzzTestInputs/ggufModel/tiny-llama-1-block.gguf",
            "GgufFuzzTestInputs/ggufModel/tiny-llama-2-blocks-align8.gguf",
            "Llama2cCheckpointFuzzTestInputs/checkpoint/tiny-shared-classifier.bin",
            "Llama2cCheckpointFuzzTestInputs/checkpoint/tiny-separate-classifier.bin"})
    void modelSeedsLoadCompletely(String seed) throws Exception {
        try (ModelFile model = ModelFiles.open(seed(seed))) {
            ModelProbe.exercise(model);
            assertTrue(model.tensorNames().contains("blk.0.ffn_up.weight"), model.tensorNames().toString());
        }
    }

    @Test
    void tokenizerSeedLoads() throws Exception {
        Tokenizer t = Tokenizer.loadLlama2c(seed("Llama2cTokenizerFuzzTestInputs/tokenizerFile/tok512.bin"), 512);
        ModelProbe.roundTrip(t);
    }

    @Test
    void npySeedsRead() throws Exception {
        try (Stream<Path> files = Files.list(seed("NpyFuzzTestInputs/npy"))) {
            long readable = files.filter(f -> f.getFileName().toString().startsWith("f4")
                    || f.getFileName().toString().startsWith("i")).peek(f -> {
                        if (f.getFileName().toString().startsWith("f4")) Npy.readFloats(f).close();
                        else Npy.readIds(f);
                    }).count();
            assertEquals(3, readable);
        }
    }

    private static Path seed(String relative) throws URISyntaxException {
        var url = SeedCorpusTest.class.getResource(SeedCorpusTest.class.getSimpleName().replace("SeedCorpusTest", "")
                + relative);
        if (url == null) throw new IllegalStateException("missing seed " + relative);
        return Path.of(url.toURI());
    }
}
