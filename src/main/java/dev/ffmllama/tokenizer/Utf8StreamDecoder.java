package dev.ffmllama.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of UTF-8 bytes arriving in arbitrary pieces (one token at a time) into text,
 * holding back an incomplete multi-byte sequence until its last byte arrives, so a character split
 * across tokens (byte-fallback emoji, CJK) is never printed broken. Malformed bytes become U+FFFD.
 * Buffers are allocated once; {@link #write} allocates nothing. Not thread-safe.
 */
public final class Utf8StreamDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    /** Undecoded bytes: at most 3 held back between calls, plus the chunk being decoded. */
    private final ByteBuffer bytes = ByteBuffer.allocate(256);
    private final CharBuffer chars = CharBuffer.allocate(256);
    private final Appendable target;

    /** Decoded text is appended to {@code target} (an {@link IOException} from it is rethrown unchecked). */
    public Utf8StreamDecoder(Appendable target) {
        this.target = target;
    }

    /** Decodes {@code len} bytes of {@code b} from {@code off}, appending every completed character. */
    public void write(byte[] b, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        while (len > 0) {
            int n = Math.min(len, bytes.remaining());
            bytes.put(b, off, n);
            off += n;
            len -= n;
            decode(false);
        }
    }

    public void write(byte[] b) {
        write(b, 0, b.length);
    }

    /** Whether bytes of an unfinished character are held back. */
    public boolean hasPendingBytes() {
        return bytes.position() > 0;
    }

    /**
     * Ends the stream: a held-back incomplete sequence is emitted as U+FFFD. The decoder can then be
     * reused for a new stream.
     */
    public void finish() {
        decode(true);
        CoderResult r;
        do {
            r = decoder.flush(chars);
            drain();
        } while (r.isOverflow());
        decoder.reset();
    }

    private void decode(boolean endOfInput) {
        bytes.flip();
        CoderResult r;
        do {
            r = decoder.decode(bytes, chars, endOfInput);
            drain();
        } while (r.isOverflow());
        bytes.compact();
    }

    private void drain() {
        chars.flip();
        try {
            if (chars.hasRemaining()) target.append(chars);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        chars.clear();
    }
}
