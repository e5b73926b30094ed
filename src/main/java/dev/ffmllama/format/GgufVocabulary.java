package dev.ffmllama.format;

import java.util.Arrays;
import java.util.Optional;

/** Reads a SentencePiece ("llama") vocabulary from the {@code tokenizer.ggml.*} metadata of a GGUF file. */
final class GgufVocabulary {
    static final String MODEL = "tokenizer.ggml.model";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPES = "tokenizer.ggml.token_type";
    static final String BOS = "tokenizer.ggml.bos_token_id";
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    static final String SUPPORTED_MODEL = "llama";

    private GgufVocabulary() {
    }

    /** The vocabulary, or empty when the file has no token list. */
    static Optional<Vocabulary> read(GgufMetadata md, String source, int modelVocabSize) {
        if (!md.has(TOKENS)) return Optional.empty();
        String model = md.getString(MODEL);
        if (!model.equals(SUPPORTED_MODEL)) {
            throw new ModelFormatException(source + ": " + MODEL + " is '" + model
                    + "', which is not supported (supported: " + SUPPORTED_MODEL + ", i.e. SentencePiece)");
        }
        GgufArray tokens = array(md, source, TOKENS, GgufValueType.STRING);
        int n = tokens.length();
        if (n != modelVocabSize) {
            throw new ModelFormatException(source + ": " + TOKENS + " has " + n + " tokens but the embedding has "
                    + modelVocabSize + " rows");
        }
        float[] scores = new float[n];
        if (md.has(SCORES)) {
            scores = sameLength(array(md, source, SCORES, GgufValueType.FLOAT32).floats(), n, source, SCORES);
        }
        int[] types = new int[n];
        Arrays.fill(types, Vocabulary.TYPE_NORMAL);
        if (md.has(TOKEN_TYPES)) {
            long[] raw = array(md, source, TOKEN_TYPES, null).longs();
            if (raw.length != n) throw lengthMismatch(source, TOKEN_TYPES, raw.length, n);
            for (int i = 0; i < n; i++) types[i] = (int) raw[i];
        }
        int bos = tokenId(md, source, BOS, 1, n);
        int eos = tokenId(md, source, EOS, 2, n);
        return Optional.of(new Vocabulary(tokens.rawStrings(), scores, types, bos, eos,
                md.getBoolean(ADD_BOS, true), md.getBoolean(ADD_SPACE_PREFIX, true)));
    }

    /** The array under {@code key}, whose elements must be {@code elementType} (or any integer type when null). */
    private static GgufArray array(GgufMetadata md, String source, String key, GgufValueType elementType) {
        GgufArray a = md.getArray(key);
        boolean ok = elementType == null ? a.elementType().isInteger() : a.elementType() == elementType;
        if (!ok) {
            throw new ModelFormatException(source + ": " + key + " is an array of " + a.elementType() + ", expected "
                    + (elementType == null ? "integers" : elementType));
        }
        return a;
    }

    private static float[] sameLength(float[] values, int n, String source, String key) {
        if (values.length != n) throw lengthMismatch(source, key, values.length, n);
        return values;
    }

    private static ModelFormatException lengthMismatch(String source, String key, int length, int n) {
        return new ModelFormatException(source + ": " + key + " has " + length + " entries but there are " + n + " tokens");
    }

    private static int tokenId(GgufMetadata md, String source, String key, int defaultId, int n) {
        long id = md.has(key) ? md.getLong(key) : defaultId;
        if (id < 0 || id >= n) {
            throw new ModelFormatException(source + ": " + key + " = " + id + " is not a token id (vocab " + n + ")");
        }
        return (int) id;
    }
}
