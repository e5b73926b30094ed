package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import dev.ffmllama.format.Npy;
import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model commands end to end: logits against run.c's, perplexity, tokenize, generate. */
class ModelCommandsTest {
    @TempDir
    Path dir;

    static final String MODEL = SharedData.model("stories260K.gguf").toString();

    @Test
    void logitsCommandMatchesRunC() throws Exception {
        int[] seq = SharedData.readInt32(SharedData.golden("llama2c/stories260K_seq_tokens.i32"));
        float[] golden = SharedData.readFloat32(SharedData.golden("llama2c/stories260K_seq_logits.f32"));
        int positions = golden.length / 512;
        Path ids = dir.resolve("ids.npy");
        try (Tensor t = Tensor.allocate(DType.I64, positions)) {
            for (int i = 0; i < positions; i++) t.segment().setAtIndex(ValueLayout.JAVA_LONG, i, seq[i]);
            Npy.write(ids, t);
        }
        Path out = dir.resolve("logits.npy");
        CliRunner.Result r = CliRunner.run("logits", "--model", MODEL, "--tokens", ids.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (Tensor logits = Npy.readFloats(out)) {
            assertEquals(positions, logits.dim(0));
            assertEquals(512, logits.dim(1));
            float[] ours = logits.toFloatArray();
            for (int i = 0; i < ours.length; i++) assertEquals(golden[i], ours[i], 1e-4f, "logit " + i);
        }
    }

    @Test
    void perplexityOfTheModelsOwnStoryIsLow() throws Exception {
        Path text = dir.resolve("story.txt");
        Files.copy(SharedData.golden("llama2c/stories260K__no-prompt_n256.txt"), text);
        CliRunner.Result r = CliRunner.run("perplexity", "--model", MODEL, "--file", text.toString(), "--context", "64");
        assertEquals(0, r.exitCode(), r.err());
        Matcher m = Pattern.compile("PPL = ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        double ppl = Double.parseDouble(m.group(1));
        // greedy text the model wrote itself: far more predictable than uniform over 512 tokens
        assertTrue(ppl > 1.0 && ppl < 4.0, "PPL " + ppl);
    }

    @Test
    void perplexityNeedsOneChunk() throws Exception {
        Path text = dir.resolve("short.txt");
        Files.writeString(text, "Hi.");
        CliRunner.Result r = CliRunner.run("perplexity", "--model", MODEL, "--file", text.toString(), "--context", "64");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("at least one chunk"), r.err());
    }

    @Test
    void generateGreedyPrintsRunCsText() throws Exception {
        CliRunner.Result r = CliRunner.run("generate", "Once upon a time", "--model", MODEL, "--temperature", "0",
                "-n", "200", "--stats");
        assertEquals(0, r.exitCode(), r.err());
        String golden = Files.readString(SharedData.golden("llama2c/stories260K__once-upon-a-time.txt"));
        assertEquals(golden, r.out());
        assertTrue(r.err().contains("alloc_bytes_per_token"), r.err());
    }

    @Test
    void sameSeedSameText() {
        String[] args = {"generate", "Once upon a time", "--model", MODEL, "--seed", "1234", "-n", "80"};
        CliRunner.Result a = CliRunner.run(args);
        CliRunner.Result b = CliRunner.run(args);
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(a.out(), b.out());
        CliRunner.Result c = CliRunner.run("generate", "Once upon a time", "--model", MODEL, "--seed", "99", "-n", "80");
        assertTrue(!c.out().equals(a.out()), "another seed should give another text");
    }
}
