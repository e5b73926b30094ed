package dev.ffmllama.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.GenerationLimits;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF file's context length is a bare metadata number (nothing in the file bounds it), and a
 * session's KV cache is sized from it. A file claiming 2^31 - 1 positions must give a clear error
 * when the session is created, not an attempt to allocate and zero tens of GB (which on Linux can
 * get the whole JVM killed); with an explicit smaller context the same model works.
 */
class HugeContextTest {
    private static final String SEED = "/dev/ffmllama/fuzz/GgufFuzzTestInputs/ggufModel/tiny-llama-1-block.gguf";

    @TempDir
    Path dir;

    @Test
    void sessionRefusesAKvCacheLargerThanMemory() throws IOException {
        Path file = dir.resolve("huge-context.gguf");
        Files.write(file, withContextLength(Integer.MAX_VALUE));
        try (Model model = Model.load(file)) {
            assertEquals(Integer.MAX_VALUE, model.config().contextLength());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.newSession(SessionOptions.defaults().greedy()));
            assertTrue(e.getMessage().contains("context length 2147483647"), e.getMessage());
            try (Session session = model.newSession(SessionOptions.defaults().greedy().withContextLength(16))) {
                assertEquals(4, session.generate(new int[] {1}, new GenerationLimits(4, false), (t, p) -> true)
                        .generatedTokens());
            }
        }
    }

    /** The tiny seed model with its llama.context_length (a uint32) replaced. */
    private static byte[] withContextLength(int contextLength) throws IOException {
        byte[] bytes;
        try (InputStream in = HugeContextTest.class.getResourceAsStream(SEED)) {
            bytes = in.readAllBytes();
        }
        byte[] key = "llama.context_length".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + key.length + 8 <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + key.length, key, 0, key.length)) {
                ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(4, b.getInt(i + key.length), "context_length is a uint32");
                b.putInt(i + key.length + 4, contextLength);
                return bytes;
            }
        }
        throw new IllegalStateException("no llama.context_length in " + SEED);
    }
}
