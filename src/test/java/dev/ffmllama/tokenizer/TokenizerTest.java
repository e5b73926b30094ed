package dev.ffmllama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.format.SharedFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TokenizerTest {

    static Stream<PromptTokensGolden> goldenRows() {
        return PromptTokensGolden.rows().stream();
    }

    static Stream<PromptTokensGolden> tok512Rows() {
        return PromptTokensGolden.rows("tok512.bin").stream();
    }

    @Test
    void goldenFileHasBothTokenizers() {
        assertEquals(11, PromptTokensGolden.rows("tokenizer.bin").size());
        assertEquals(11, PromptTokensGolden.rows("tok512.bin").size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenRows")
    void llama2cTokenizerMatchesRunC(PromptTokensGolden row) throws IOException {
        Tokenizer t = Tokenizer.loadLlama2c(SharedFiles.model(row.tokenizer()), row.vocab());
        assertArrayEquals(row.ids(), t.encode(row.prompt(), true, false));
        assertEquals(row.prompt(), t.decode(row.ids()), "decode(encode(text)) gives the text back");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tok512Rows")
    void ggufVocabularyEncodesLikeTheLlama2cFileItCameFrom(PromptTokensGolden row) throws IOException {
        try (ModelFile m = ModelFiles.open(SharedFiles.model("stories260K.gguf"))) {
            Tokenizer t = Tokenizer.forModel(m, null);
            assertArrayEquals(row.ids(), t.encode(row.prompt()));
            assertEquals(row.prompt(), t.decode(row.ids()));
        }
    }

    static Stream<PromptTokensGolden> tokenizer32kRows() {
        return PromptTokensGolden.rows("tokenizer.bin").stream();
    }

    /** The Q8_0 synthetic 15M GGUF carries tokenizer.bin's 32k vocabulary (with U+2581 for spaces). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizer32kRows")
    void ggufVocabularyOf32kTokensEncodesLikeTokenizerBin(PromptTokensGolden row) throws IOException {
        try (ModelFile m = ModelFiles.open(SharedFiles.model("synth_stories15M-q8_0.gguf"))) {
            Tokenizer t = Tokenizer.forModel(m, null);
            assertEquals(32000, t.size());
            assertArrayEquals(row.ids(), t.encode(row.prompt()));
            assertEquals(row.prompt(), t.decode(row.ids()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"once-upon-a-time", "lily-and-tom-went-to-the-park", "the-little-robot"})
    void decodingTheGreedyRunReproducesRunCsText(String prompt) throws IOException {
        Tokenizer t = Tokenizer.loadLlama2c(SharedFiles.model("tok512.bin"), 512);
        byte[] raw = Files.readAllBytes(SharedFiles.golden("llama2c/stories260K__" + prompt + ".tokens.i32"));
        int[] ids = new int[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
        String expected = Files.readString(SharedFiles.golden("llama2c/stories260K__" + prompt + ".txt"));

        // Streamed token by token, as a generator does: run.c ends its output with a newline.
        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        for (int i = 1; i < ids.length; i++) t.decode(ids[i - 1], ids[i], streamed);
        assertEquals(expected, streamed.toString(StandardCharsets.UTF_8) + "\n");
        assertEquals(expected, t.decode(ids) + "\n");
    }

    @Test
    void fastMergeEqualsRunCsQuadraticLoopOnRandomText() throws IOException {
        for (String file : List.of("tok512.bin", "tokenizer.bin")) {
            Tokenizer t = Tokenizer.fromLlama2c(dev.ffmllama.format.Llama2cTokenizerFile.read(SharedFiles.model(file)));
            RunCReference reference = new RunCReference(t.vocabulary());
            Random random = new Random(42);
            for (int trial = 0; trial < 60; trial++) {
                String text = randomText(random, 5 + random.nextInt(120));
                assertArrayEquals(reference.encode(text), t.encode(text, true, true), file + ": " + text);
            }
        }
    }

    @Test
    void tenThousandCharacterPromptIsFast() throws IOException {
        Tokenizer t = Tokenizer.loadLlama2c(SharedFiles.model("tokenizer.bin"), 32000);
        String text = randomText(new Random(7), 10_000);
        int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> t.encode(text, true, false));
        assertTrue(ids.length > 1000 && ids.length < 10_002, "ids: " + ids.length);
        assertEquals(text, t.decode(ids));
    }

    @Test
    void noSpacePrefixAndNoBosWhenEmpty() throws IOException {
        Tokenizer t = Tokenizer.loadLlama2c(SharedFiles.model("tok512.bin"), 512);
        assertArrayEquals(new int[0], t.encode("", false, false));
        assertArrayEquals(new int[] {1, 2}, t.encode("", true, true));
        int[] once = t.encode("Once", false, false);
        assertEquals(" Once", new String(concat(t, once), StandardCharsets.UTF_8));
    }

    @Test
    void byteFallbackPiecesDecodeToRawBytes() throws IOException {
        Tokenizer t = Tokenizer.loadLlama2c(SharedFiles.model("tok512.bin"), 512);
        assertArrayEquals(new byte[] {0x0A}, t.tokenBytes(13)); // <0x0A>
        assertArrayEquals(new byte[] {(byte) 0xF0}, t.tokenBytes(243)); // <0xF0>
        assertArrayEquals(new byte[0], t.tokenBytes(1)); // BOS prints nothing
    }

    @Test
    void emojiSplitAcrossTokensStreamsAsOneCharacter() throws IOException {
        Tokenizer t = Tokenizer.loadLlama2c(SharedFiles.model("tok512.bin"), 512);
        int[] ids = t.encode("ok 🙂!", true, false);
        StringBuilder text = new StringBuilder();
        Utf8StreamDecoder decoder = new Utf8StreamDecoder(text);
        int emittedBeforeLastEmojiByte = -1;
        for (int i = 1; i < ids.length; i++) {
            t.decode(ids[i - 1], ids[i], decoder);
            if (ids[i] == 0x82 + 3) emittedBeforeLastEmojiByte = text.length(); // last byte of F0 9F 99 82
            assertTrue(text.chars().noneMatch(c -> c == '\uFFFD'), "no broken character at any point: " + text);
        }
        decoder.finish();
        assertEquals("ok 🙂!", text.toString());
        assertEquals("ok 🙂".length(), emittedBeforeLastEmojiByte);
    }

    private static byte[] concat(Tokenizer t, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(t.tokenBytes(id));
        return out.toByteArray();
    }

    /** Mixed text: English words, digits, spaces/newlines, accents, CJK, emoji and stray bytes' characters. */
    static String randomText(Random r, int length) {
        String[] parts = {"the ", "The", " little", "once", " upon", " a", " time", "  ", "\n", "Lily", " and", " Tom",
            "ing", "ed", ",", ".", "!", "é", "ï", "café", "日本", "語", "🙂", "😀", "12", "345", " ", "x", "q", "Ω", "\t"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) sb.append(parts[r.nextInt(parts.length)]);
        return sb.toString();
    }
}
