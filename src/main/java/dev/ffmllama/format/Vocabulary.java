package dev.ffmllama.format;

/**
 * A SentencePiece-style vocabulary as stored in a llama2.c tokenizer file or GGUF metadata.
 * Pieces are kept exactly as the file stores them: llama2.c files write spaces as ' ', GGUF files
 * as U+2581 ("▁"); the tokenizer maps the latter to spaces.
 *
 * @param pieces         token id to piece bytes (UTF-8; byte-fallback pieces look like {@code <0x0A>})
 * @param scores         merge scores (higher merges first)
 * @param tokenTypes     GGUF token types ({@link #TYPE_NORMAL}, {@link #TYPE_UNKNOWN}, {@link #TYPE_CONTROL},
 *                       {@link #TYPE_BYTE}...); for llama2.c files they are inferred the way llama.cpp's
 *                       converter does (id 0 unknown, BOS/EOS control, {@code <0xXX>} byte, others normal)
 * @param bosId          beginning-of-sequence id
 * @param eosId          end-of-sequence id
 * @param addBos         whether encoding starts with BOS
 * @param addSpacePrefix whether encoding adds the dummy-prefix space
 */
public record Vocabulary(byte[][] pieces, float[] scores, int[] tokenTypes, int bosId, int eosId, boolean addBos,
                         boolean addSpacePrefix) {
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;
    public static final int TYPE_UNUSED = 5;
    public static final int TYPE_BYTE = 6;

    public Vocabulary {
        if (scores.length != pieces.length || tokenTypes.length != pieces.length) {
            throw new IllegalArgumentException(pieces.length + " pieces but " + scores.length + " scores and "
                    + tokenTypes.length + " token types");
        }
        if (bosId < 0 || bosId >= pieces.length || eosId < 0 || eosId >= pieces.length) {
            throw new IllegalArgumentException("BOS " + bosId + " / EOS " + eosId + " outside a vocabulary of " + pieces.length);
        }
    }

    public int size() {
        return pieces.length;
    }
}
