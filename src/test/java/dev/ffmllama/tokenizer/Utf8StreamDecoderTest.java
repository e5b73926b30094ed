package dev.ffmllama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8StreamDecoderTest {

    @Test
    void holdsBackIncompleteSequencesByteByByte() {
        StringBuilder out = new StringBuilder();
        Utf8StreamDecoder d = new Utf8StreamDecoder(out);
        byte[] text = "a日🙂b".getBytes(StandardCharsets.UTF_8);
        int[] expectedLengthAfterByte = {1, 1, 1, 2, 2, 2, 2, 4, 5}; // 'a', 3 bytes of 日, 4 of 🙂 (2 chars), 'b'
        for (int i = 0; i < text.length; i++) {
            d.write(text, i, 1);
            assertEquals(expectedLengthAfterByte[i], out.length(), "after byte " + i);
        }
        assertFalse(d.hasPendingBytes());
        d.finish();
        assertEquals("a日🙂b", out.toString());
    }

    @Test
    void malformedBytesBecomeReplacementCharacters() {
        StringBuilder out = new StringBuilder();
        Utf8StreamDecoder d = new Utf8StreamDecoder(out);
        d.write(new byte[] {'x', (byte) 0x80, 'y', (byte) 0xE6}); // stray continuation, then an unfinished lead
        assertEquals("x\uFFFDy", out.toString());
        assertTrue(d.hasPendingBytes());
        d.finish();
        assertEquals("x\uFFFDy\uFFFD", out.toString());
        d.write("ok".getBytes(StandardCharsets.UTF_8)); // reusable after finish
        assertEquals("x\uFFFDy\uFFFDok", out.toString());
    }

    @Test
    void largeWritesSpanningTheInternalBuffer() {
        String text = "añ日🙂".repeat(500);
        StringBuilder out = new StringBuilder();
        Utf8StreamDecoder d = new Utf8StreamDecoder(out);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        d.write(bytes, 0, 1001);
        d.write(bytes, 1001, bytes.length - 1001);
        d.finish();
        assertEquals(text, out.toString());
    }

    @Test
    void goldenPromptParserHandlesJsonEscapes() {
        assertEquals("a\nb\"c\\d\t🙂é", PromptTokensGolden.jsonString("\"a\\nb\\\"c\\\\d\\t\\ud83d\\ude42\\u00e9\""));
    }
}
