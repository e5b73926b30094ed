package dev.ffmllama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.cli.Main;
import dev.ffmllama.format.SharedFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The {@code tokenize} subcommand end to end (through {@link Main#execute}). */
class TokenizeCommandTest {

    private record Result(int exitCode, String out, String err) {
    }

    private static Result run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void llama2cTokenizerFile() {
        Result r = run("tokenize", "--tokenizer", SharedFiles.model("tok512.bin").toString(), "--prompt", "Once upon a time");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("1 403 407 261 378", r.out().strip());
    }

    @Test
    void ggufModelWithoutBos() {
        Result r = run("tokenize", "--model", SharedFiles.model("stories260K.gguf").toString(), "--prompt",
                "Once upon a time", "--no-bos");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("403 407 261 378", r.out().strip());
    }

    @Test
    void llama2cModelNeedsItsTokenizer() {
        Result r = run("tokenize", "--model", SharedFiles.model("stories260K.bin").toString(), "--prompt", "hi");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("without a vocabulary: give its tokenizer with --tokenizer"), r.err());
    }

    @Test
    void tokenizerMustMatchTheModelVocab() {
        Result r = run("tokenize", "--model", SharedFiles.model("stories260K.bin").toString(),
                "--tokenizer", SharedFiles.model("tokenizer.bin").toString(), "--prompt", "hi");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("after the 512 tokens of the model's vocab_size"), r.err());
    }
}
