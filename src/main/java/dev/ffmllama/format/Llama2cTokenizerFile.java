package dev.ffmllama.format;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a llama2.c tokenizer file: int32 {@code max_token_length}, then for each token a float32
 * score, an int32 byte length and the piece bytes. The file does not store the token count, so the
 * caller passes the model's vocabulary size and the file must hold exactly that many tokens. BOS is
 * 1 and EOS 2 (as run.c assumes); encoding adds BOS and the dummy-prefix space.
 */
public final class Llama2cTokenizerFile {
    /** Token ids run.c hard-codes. */
    public static final int BOS_ID = 1;
    public static final int EOS_ID = 2;

    private Llama2cTokenizerFile() {
    }

    /**
     * Reads exactly {@code expectedVocabSize} tokens (the model's vocab size) and requires the file to
     * end there; a mismatch names both counts.
     */
    public static Vocabulary read(Path path, int expectedVocabSize) throws IOException {
        if (expectedVocabSize <= 0) throw new IllegalArgumentException("vocab size " + expectedVocabSize);
        return read(path, expectedVocabSize, true);
    }

    /** Reads every token the file holds (when no model is at hand to give the vocabulary size). */
    public static Vocabulary read(Path path) throws IOException {
        return read(path, -1, false);
    }

    private static Vocabulary read(Path path, int expected, boolean exact) throws IOException {
        try (MappedFile file = MappedFile.map(path)) {
            String source = file.source() + " (llama2.c tokenizer)";
            BoundedReader in = new BoundedReader(file.segment(), source);
            int maxTokenLength = in.i32("max_token_length");
            if (maxTokenLength <= 0) {
                throw new ModelFormatException(source + ": max_token_length = " + maxTokenLength + " must be positive");
            }
            List<byte[]> pieces = new ArrayList<>();
            List<Float> scoreList = new ArrayList<>();
            while (exact ? pieces.size() < expected : in.remaining() > 0) {
                int id = pieces.size();
                if (exact && in.remaining() == 0) {
                    throw new ModelFormatException(source + ": the file ends after " + id + " tokens but the model's "
                            + "vocab_size is " + expected + " (wrong tokenizer for this model, or truncated file)");
                }
                String what = "token " + id;
                float score = in.f32(what + " score");
                int length = in.i32(what + " length");
                if (length < 0 || length > maxTokenLength) {
                    throw new ModelFormatException(source + ": " + what + " has length " + length
                            + " (must be between 0 and max_token_length " + maxTokenLength + ")");
                }
                scoreList.add(score);
                pieces.add(in.bytes(length, what + " bytes"));
            }
            if (exact && in.remaining() > 0) {
                throw new ModelFormatException(source + ": " + in.remaining() + " bytes remain after the "
                        + expected + " tokens of the model's vocab_size (wrong tokenizer for this model?)");
            }
            if (pieces.size() <= EOS_ID) {
                throw new ModelFormatException(source + ": holds " + pieces.size() + " tokens; at least 3 are needed");
            }
            float[] scores = new float[pieces.size()];
            for (int i = 0; i < scores.length; i++) scores[i] = scoreList.get(i);
            byte[][] pieceArray = pieces.toArray(new byte[0][]);
            return new Vocabulary(pieceArray, scores, inferTokenTypes(pieceArray), BOS_ID, EOS_ID, true, true);
        }
    }

    /** Token types as llama.cpp's converter assigns them: unknown 0, control BOS/EOS, byte {@code <0xXX>}. */
    private static int[] inferTokenTypes(byte[][] pieces) {
        int[] types = new int[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            if (i == 0) types[i] = Vocabulary.TYPE_UNKNOWN;
            else if (i == BOS_ID || i == EOS_ID) types[i] = Vocabulary.TYPE_CONTROL;
            else if (BytePieces.parse(pieces[i]) >= 0) types[i] = Vocabulary.TYPE_BYTE;
            else types[i] = Vocabulary.TYPE_NORMAL;
        }
        return types;
    }
}
