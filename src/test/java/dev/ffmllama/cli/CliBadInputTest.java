package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import dev.ffmllama.format.Npy;
import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad input ends with a one-line message naming the problem and exit code 1 (2 for
 * usage errors): no stack trace, no crash, no hang. One test per case.
 */
class CliBadInputTest {
    @TempDir
    Path dir;

    static final Path MODEL = SharedData.model("stories260K.bin");
    static final Path TOK = SharedData.model("tok512.bin");

    /** stories260K.bin with header int {@code field} (0 = dim ... 6 = seq_len) replaced. */
    private Path withHeaderField(int field, int value) throws IOException {
        byte[] bytes = Files.readAllBytes(MODEL);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(field * 4, value);
        Path p = dir.resolve("bad.bin");
        Files.write(p, bytes);
        return p;
    }

    private static void assertUserError(CliRunner.Result r, String... fragments) {
        assertEquals(1, r.exitCode(), "exit code; stderr was: " + r.err());
        for (String f : fragments) {
            assertTrue(r.err().toLowerCase().contains(f.toLowerCase()), "stderr should mention '" + f + "': " + r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace expected: " + r.err());
    }

    private CliRunner.Result generate(Path model, String... extra) {
        String[] base = {"generate", "Once upon a time", "--model", model.toString(), "--tokenizer", TOK.toString(),
            "--temperature", "0", "-n", "20"};
        String[] args = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRunner.run(args);
    }

    @Test
    void truncatedModel() throws IOException {
        Path p = dir.resolve("truncated.bin");
        Files.write(p, Arrays.copyOf(Files.readAllBytes(MODEL), 100_000));
        assertUserError(generate(p), "truncated");
    }

    @Test
    void wrongGgufMagic() throws IOException {
        byte[] bytes = Files.readAllBytes(SharedData.model("stories260K.gguf"));
        bytes[3] = 'X';
        Path p = dir.resolve("bad.gguf");
        Files.write(p, bytes);
        CliRunner.Result r = CliRunner.run("generate", "hi", "--model", p.toString(), "-n", "5");
        assertEquals(1, r.exitCode(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void notAModelAtAll() throws IOException {
        Path p = dir.resolve("notes.txt");
        Files.writeString(p, "this is a text file, not a model\n".repeat(20));
        CliRunner.Result r = generate(p);
        assertEquals(1, r.exitCode(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void dimsInconsistentWithFileSize() throws IOException {
        assertUserError(generate(withHeaderField(1, 400)), "hidden");
    }

    @Test
    void headsNotDividingDim() throws IOException {
        assertUserError(generate(withHeaderField(3, 7)), "does not divide");
    }

    @Test
    void kvHeadsNotDividingHeads() throws IOException {
        assertUserError(generate(withHeaderField(4, 3)), "does not divide");
    }

    @Test
    void tokenizerVocabularyDiffersFromModel() {
        CliRunner.Result r = CliRunner.run("generate", "hi", "--model", MODEL.toString(), "--tokenizer",
                SharedData.model("tokenizer.bin").toString(), "-n", "5");
        assertUserError(r, "512");
    }

    @Test
    void tokenIdOutOfRange() throws IOException {
        Path ids = dir.resolve("ids.npy");
        try (Tensor t = Tensor.allocate(DType.I32, 3)) {
            t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 0, 1);
            t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 1, 600);
            t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 2, 5);
            Npy.write(ids, t);
        }
        CliRunner.Result r = CliRunner.run("logits", "--model", MODEL.toString(), "--tokenizer", TOK.toString(),
                "--tokens", ids.toString(), "--out", dir.resolve("out.npy").toString());
        assertUserError(r, "600", "out of range");
    }

    @Test
    void promptLongerThanContext() {
        String prompt = "Lily and Tom went to the park to play with a big red ball. ".repeat(60);
        CliRunner.Result r = CliRunner.run("generate", prompt, "--model", MODEL.toString(), "--tokenizer",
                TOK.toString(), "-n", "10");
        assertUserError(r, "context");
    }

    @Test
    void stepsPastContextStopCleanly() {
        CliRunner.Result r = CliRunner.run("generate", "Once upon a time", "--model", MODEL.toString(), "--tokenizer",
                TOK.toString(), "--temperature", "0", "-n", "100000", "--ignore-eos");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("context full"), r.err());
        assertTrue(r.out().startsWith("Once upon a time"), r.out());
    }

    @Test
    void weightsThatCannotBeQuantized() {
        // stories260K's hidden size 172 is not a whole number of 32-value blocks
        assertUserError(generate(MODEL, "--weights", "q8_0"), "ffn_down", "not whole blocks of 32");
    }

    @Test
    void unknownWeightType() {
        assertUserError(generate(MODEL, "--weights", "q3_k"), "unknown weight type");
    }

    @Test
    void missingModelFile() {
        assertUserError(generate(dir.resolve("nope.bin")), "does not exist");
    }

    @Test
    void unknownBackendIsAUsageStyleError() {
        assertUserError(generate(MODEL, "--backend", "cuda"), "unknown backend");
    }
}
