package dev.ffmllama.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ffmllama.format.Llama2cTokenizerFile;
import dev.ffmllama.format.ModelFormatException;
import dev.ffmllama.format.Vocabulary;
import dev.ffmllama.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Fuzzes the llama2.c tokenizer file reader and the tokenizer built from it: the file is read once
 * for whatever it holds, then again through {@link Tokenizer#loadLlama2c} with that count (must
 * succeed the same way) and with one token more (must be refused). The tokenizer then encodes and
 * decodes text. Only a {@link ModelFormatException} may come out. Seeds:
 * {@code Llama2cTokenizerFuzzTestInputs/tokenizerFile/}.
 */
class Llama2cTokenizerFuzzTest {
    @FuzzTest
    void tokenizerFile(byte[] bytes) throws IOException {
        Path file = FuzzInput.write(".bin", bytes);
        Vocabulary vocabulary;
        try {
            vocabulary = Llama2cTokenizerFile.read(file);
        } catch (ModelFormatException expected) {
            return;
        }
        int n = vocabulary.size();
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.loadLlama2c(file, n);
        } catch (ModelFormatException tooSmallForByteFallback) {
            if (n >= 259) throw new AssertionError("a readable " + n + "-token file was refused", tooSmallForByteFallback);
            return;
        }
        ModelProbe.roundTrip(tokenizer);
        try {
            Tokenizer.loadLlama2c(file, n + 1);
            throw new AssertionError("a file of " + n + " tokens was accepted for a vocabulary of " + (n + 1));
        } catch (ModelFormatException expected) {
            // the count mismatch is reported
        }
    }
}
