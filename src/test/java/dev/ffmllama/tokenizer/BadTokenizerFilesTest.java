package dev.ffmllama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.format.Llama2cTokenizerFile;
import dev.ffmllama.format.ModelFormatException;
import dev.ffmllama.format.SharedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One malformed llama2.c tokenizer file per test. */
class BadTokenizerFilesTest {
    @TempDir
    Path dir;

    @Test
    void truncatedTokenizer() throws IOException {
        byte[] good = Files.readAllBytes(SharedFiles.model("tok512.bin"));
        Path file = write(Arrays.copyOf(good, good.length - 3));
        assertBad(() -> Llama2cTokenizerFile.read(file, 512), "truncated file: token 511 bytes needs");
    }

    @Test
    void negativeTokenLength() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + 3 * 9).order(ByteOrder.LITTLE_ENDIAN).putInt(7);
        b.putFloat(0).putInt(1).put((byte) 'a');
        b.putFloat(0).putInt(-5);
        Path file = write(b.array());
        assertBad(() -> Llama2cTokenizerFile.read(file, 3), "token 1 has length -5");
    }

    @Test
    void tokenLongerThanMaxTokenLength() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 + 9).order(ByteOrder.LITTLE_ENDIAN).putInt(7);
        b.putFloat(0).putInt(9).put(new byte[9]);
        Path file = write(b.array());
        assertBad(() -> Llama2cTokenizerFile.read(file, 1), "token 0 has length 9 (must be between 0 and max_token_length 7)");
    }

    @Test
    void tokenizerSmallerThanModelVocab() throws IOException {
        Path tok = SharedFiles.model("tok512.bin");
        assertBad(() -> Tokenizer.loadLlama2c(tok, 32000), "ends after 512 tokens but the model's vocab_size is 32000");
    }

    @Test
    void tokenizerLargerThanModelVocab() throws IOException {
        Path tok = SharedFiles.model("tokenizer.bin");
        assertBad(() -> Tokenizer.loadLlama2c(tok, 512), "remain after the 512 tokens of the model's vocab_size");
    }

    @Test
    void withoutAModelTheFileGivesTheCount() throws IOException {
        assertEquals(512, Llama2cTokenizerFile.read(SharedFiles.model("tok512.bin")).size());
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = dir.resolve("tok.bin");
        Files.write(p, bytes);
        return p;
    }

    interface Load {
        Object run() throws IOException;
    }

    private static void assertBad(Load load, String fragment) {
        ModelFormatException e = assertThrows(ModelFormatException.class, load::run);
        assertTrue(e.getMessage().contains("(llama2.c tokenizer)"), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected \"" + fragment + "\" in: " + e.getMessage());
    }
}
