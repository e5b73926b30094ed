package dev.ffmllama.format;

/**
 * A SentencePiece-style vocabulary as stored in a llama2.c tokenizer file or GGUF metadata.
 *
 * @param pieces         token id to piece bytes (UTF-8; byte-fallback pieces look like {@code <0x0A>})
 * @param scores         merge scores (higher merges first)
 * @param tokenTypes     GGUF token types (1 normal, 2 unknown, 3 control, 6 byte...); all 1 when unknown
 * @param bosId          beginning-of-sequence id
 * @param eosId          end-of-sequence id
 * @param addBos         whether encoding starts with BOS
 * @param addSpacePrefix whether encoding adds the dummy-prefix space
 */
public record Vocabulary(byte[][] pieces, float[] scores, int[] tokenTypes, int bosId, int eosId, boolean addBos,
                         boolean addSpacePrefix) {
    public int size() {
        return pieces.length;
    }
}
