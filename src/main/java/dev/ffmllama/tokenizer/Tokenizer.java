package dev.ffmllama.tokenizer;

import dev.ffmllama.format.BytePieces;
import dev.ffmllama.format.Llama2cTokenizerFile;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFormatException;
import dev.ffmllama.format.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE tokenizer with the semantics of llama2.c's {@code run.c}
 * ({@code encode()} / {@code decode()}), built from a llama2.c tokenizer file or a GGUF vocabulary.
 *
 * <p>Encoding: optional BOS; if the text is non-empty (and the vocabulary asks for it) the
 * dummy-prefix piece " "; then the UTF-8 bytes split into code points exactly as run.c does (at most
 * 4 bytes, malformed input byte by byte), each looked up as a piece or else emitted as byte-fallback
 * tokens; then, repeatedly, the adjacent pair whose concatenation is a piece with the highest score
 * is merged (ties: leftmost pair; scores at or below -1e10 never merge, like run.c's initial best);
 * optional EOS. Where run.c rescans all pairs after every merge (quadratic), this keeps candidate
 * pairs in a priority queue ordered by (score, position) and drops stale ones when they surface, so
 * the same merges happen in O(n log n): long prompts stay fast. The one deliberate difference: BOS is
 * not part of the merge sequence (run.c would merge it with text if the vocabulary had a piece
 * starting with the BOS piece; no real vocabulary has one).
 *
 * <p>Decoding: a token's bytes are its piece, with U+2581 (GGUF's space marker) as a space,
 * {@code <0xXX>} pieces as that raw byte, and control tokens (BOS/EOS) as nothing; after BOS one
 * leading space is dropped. These bytes are computed once per token, so decoding to a stream
 * allocates nothing. Use {@link Utf8StreamDecoder} to get text that never splits a character.
 *
 * <p>Immutable and thread-safe.
 */
public final class Tokenizer {
    /** run.c starts its best score here: pairs scoring at or below it never merge. */
    private static final float MIN_MERGE_SCORE = -1e10f;
    private static final byte[] SPACE_MARKER = "\u2581".getBytes(StandardCharsets.UTF_8);

    private final Vocabulary vocabulary;
    /** Normalized piece bytes as ISO-8859-1 strings (one char per byte): cheap exact-bytes hash keys. */
    private final String[] keys;
    private final Map<String, Integer> idByKey;
    private final float[] scores;
    private final int[] byteFallbackIds;
    private final byte[][] decoded;
    private final int spaceId;

    private Tokenizer(Vocabulary vocabulary, boolean llama2cByteIds) {
        this.vocabulary = vocabulary;
        int n = vocabulary.size();
        this.scores = vocabulary.scores().clone();
        this.keys = new String[n];
        this.idByKey = new HashMap<>(n * 2);
        this.decoded = new byte[n][];
        for (int id = 0; id < n; id++) {
            byte[] piece = replaceSpaceMarker(vocabulary.pieces()[id]);
            keys[id] = new String(piece, StandardCharsets.ISO_8859_1);
            idByKey.putIfAbsent(keys[id], id); // duplicate pieces: the lowest id wins
            decoded[id] = decodedBytes(id, piece);
        }
        this.byteFallbackIds = llama2cByteIds ? llama2cByteIds(n) : byteIdsByName(vocabulary);
        this.spaceId = idByKey.getOrDefault(" ", -1);
    }

    /** From a llama2.c tokenizer file; {@code vocabSize} is the model's and must match the file. */
    public static Tokenizer loadLlama2c(Path path, int vocabSize) throws IOException {
        return fromLlama2c(Llama2cTokenizerFile.read(path, vocabSize));
    }

    /** From a vocabulary read from a llama2.c tokenizer file: byte {@code b} falls back to token {@code b + 3}, as in run.c. */
    public static Tokenizer fromLlama2c(Vocabulary vocabulary) {
        return new Tokenizer(vocabulary, true);
    }

    /** From a GGUF (or any) vocabulary: byte fallback uses the {@code <0xXX>} pieces, found by name. */
    public static Tokenizer fromVocabulary(Vocabulary vocabulary) {
        return new Tokenizer(vocabulary, false);
    }

    /**
     * The tokenizer for a model: the llama2.c tokenizer file if one is given (checked against the
     * model's vocab size), else the vocabulary embedded in the model (GGUF).
     */
    public static Tokenizer forModel(ModelFile model, Path llama2cTokenizerFile) throws IOException {
        if (llama2cTokenizerFile != null) return loadLlama2c(llama2cTokenizerFile, model.config().vocabSize());
        return model.vocabulary().map(Tokenizer::fromVocabulary).orElseThrow(() -> new ModelFormatException(
                model.path() + " has no embedded vocabulary (" + model.format() + "): give a llama2.c tokenizer file"));
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public int size() {
        return keys.length;
    }

    public int bosId() {
        return vocabulary.bosId();
    }

    public int eosId() {
        return vocabulary.eosId();
    }

    /** Encodes with the vocabulary's own BOS setting and no EOS. */
    public int[] encode(String text) {
        return encode(text, vocabulary.addBos(), false);
    }

    public int[] encode(String text, boolean bos, boolean eos) {
        return encode(text.getBytes(StandardCharsets.UTF_8), bos, eos);
    }

    /** Encodes raw bytes (normally UTF-8; malformed bytes fall back to byte tokens). */
    public int[] encode(byte[] text, boolean bos, boolean eos) {
        IntList symbols = new IntList(text.length + 1);
        if (text.length > 0 && vocabulary.addSpacePrefix()) {
            if (spaceId >= 0) symbols.add(spaceId);
            else symbols.add(byteFallbackIds[' ']);
        }
        splitCodePoints(text, symbols);
        int[] merged = new Merger(symbols.toArray()).run();
        int size = merged.length + (bos ? 1 : 0) + (eos ? 1 : 0);
        int[] out = new int[size];
        int o = 0;
        if (bos) out[o++] = bosId();
        System.arraycopy(merged, 0, out, o, merged.length);
        if (eos) out[size - 1] = eosId();
        return out;
    }

    /** run.c's loop: a code point is a lead byte plus up to 3 continuation bytes (4 bytes at most). */
    private void splitCodePoints(byte[] text, IntList out) {
        int start = 0;
        int length = 0;
        for (int i = 0; i < text.length; i++) {
            if ((text[i] & 0xC0) != 0x80) {
                start = i;
                length = 0;
            } else if (length == 0) {
                start = i;
            }
            length++;
            boolean nextContinues = i + 1 < text.length && (text[i + 1] & 0xC0) == 0x80;
            if (nextContinues && length < 4) continue;
            Integer id = idByKey.get(new String(text, start, length, StandardCharsets.ISO_8859_1));
            if (id != null) {
                out.add(id);
            } else {
                for (int k = start; k < start + length; k++) out.add(byteFallbackIds[text[k] & 0xFF]);
            }
            length = 0;
        }
    }

    /** Writes the bytes {@code token} decodes to when it follows {@code prevToken}. Allocates nothing. */
    public void decode(int prevToken, int token, OutputStream out) throws IOException {
        byte[] b = decoded[Objects.checkIndex(token, decoded.length)];
        int skip = skipLeadingSpace(prevToken, b);
        out.write(b, skip, b.length - skip);
    }

    /** Feeds the bytes {@code token} decodes to (after {@code prevToken}) to a streaming UTF-8 decoder. */
    public void decode(int prevToken, int token, Utf8StreamDecoder out) {
        byte[] b = decoded[Objects.checkIndex(token, decoded.length)];
        int skip = skipLeadingSpace(prevToken, b);
        out.write(b, skip, b.length - skip);
    }

    /** The text of a whole sequence (each token decoded after the one before it; the first after none). */
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int prev = -1;
        for (int t : tokens) {
            byte[] b = decoded[Objects.checkIndex(t, decoded.length)];
            int skip = skipLeadingSpace(prev, b);
            bytes.write(b, skip, b.length - skip);
            prev = t;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A copy of the bytes a token decodes to (not after BOS). */
    public byte[] tokenBytes(int token) {
        return decoded[Objects.checkIndex(token, decoded.length)].clone();
    }

    private int skipLeadingSpace(int prevToken, byte[] b) {
        return prevToken == bosId() && b.length > 0 && b[0] == ' ' ? 1 : 0;
    }

    private byte[] decodedBytes(int id, byte[] normalizedPiece) {
        if (vocabulary.tokenTypes()[id] == Vocabulary.TYPE_CONTROL) return new byte[0];
        int b = BytePieces.parse(normalizedPiece);
        return b >= 0 ? new byte[] {(byte) b} : normalizedPiece;
    }

    private static int[] llama2cByteIds(int vocabSize) {
        if (vocabSize < 256 + 3) {
            throw new ModelFormatException("a llama2.c vocabulary needs the 256 byte pieces at ids 3..258, but it has only "
                    + vocabSize + " tokens");
        }
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) ids[b] = b + 3;
        return ids;
    }

    /** Byte-fallback ids by piece name; a byte without a piece falls back to the unknown token. */
    private static int[] byteIdsByName(Vocabulary v) {
        int unknown = 0;
        for (int id = 0; id < v.size(); id++) {
            if (v.tokenTypes()[id] == Vocabulary.TYPE_UNKNOWN) {
                unknown = id;
                break;
            }
        }
        int[] ids = new int[256];
        java.util.Arrays.fill(ids, -1);
        for (int id = 0; id < v.size(); id++) {
            int b = BytePieces.parse(v.pieces()[id]);
            if (b >= 0 && ids[b] < 0) ids[b] = id;
        }
        for (int b = 0; b < 256; b++) if (ids[b] < 0) ids[b] = unknown;
        return ids;
    }

    private static byte[] replaceSpaceMarker(byte[] piece) {
        int count = 0;
        for (int i = 0; i + 2 < piece.length; i++) if (isSpaceMarker(piece, i)) count++;
        if (count == 0) return piece;
        byte[] out = new byte[piece.length - 2 * count];
        int o = 0;
        for (int i = 0; i < piece.length; ) {
            if (i + 2 < piece.length && isSpaceMarker(piece, i)) {
                out[o++] = ' ';
                i += 3;
            } else {
                out[o++] = piece[i++];
            }
        }
        return out;
    }

    private static boolean isSpaceMarker(byte[] piece, int i) {
        return piece[i] == SPACE_MARKER[0] && piece[i + 1] == SPACE_MARKER[1] && piece[i + 2] == SPACE_MARKER[2];
    }

    /**
     * The merge phase on a doubly linked list of symbols. Every adjacent pair that concatenates to a
     * piece is a candidate in a queue ordered by score (higher first; compared with {@code >} like
     * run.c, so -0.0 ties 0.0) and then by position (leftmost first; symbols never reorder, so their
     * original index orders them). A candidate whose symbols changed since it was queued is skipped.
     */
    private final class Merger {
        private record Candidate(int left, int right, int leftId, int rightId, int mergedId, float score) {
        }

        private final int[] ids;
        private final int[] prev;
        private final int[] next;
        private final boolean[] removed;
        private final PriorityQueue<Candidate> queue = new PriorityQueue<>((a, b) -> {
            if (a.score != b.score) return a.score > b.score ? -1 : 1;
            return Integer.compare(a.left, b.left);
        });

        Merger(int[] symbols) {
            int n = symbols.length;
            ids = symbols;
            prev = new int[n];
            next = new int[n];
            removed = new boolean[n];
            for (int i = 0; i < n; i++) {
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            for (int i = 0; i + 1 < n; i++) offer(i, i + 1);
        }

        private void offer(int left, int right) {
            Integer merged = idByKey.get(keys[ids[left]].concat(keys[ids[right]]));
            if (merged != null && scores[merged] > MIN_MERGE_SCORE) {
                queue.add(new Candidate(left, right, ids[left], ids[right], merged, scores[merged]));
            }
        }

        int[] run() {
            Candidate c;
            while ((c = queue.poll()) != null) {
                if (removed[c.left] || removed[c.right] || next[c.left] != c.right
                        || ids[c.left] != c.leftId || ids[c.right] != c.rightId) {
                    continue; // stale
                }
                ids[c.left] = c.mergedId;
                removed[c.right] = true;
                next[c.left] = next[c.right];
                if (next[c.right] >= 0) prev[next[c.right]] = c.left;
                if (prev[c.left] >= 0) offer(prev[c.left], c.left);
                if (next[c.left] >= 0) offer(c.left, next[c.left]);
            }
            IntList out = new IntList(ids.length);
            for (int i = 0; i < ids.length; i++) if (!removed[i]) out.add(ids[i]);
            return out.toArray();
        }
    }

    /** A growable int array (avoids boxing while collecting ids). */
    private static final class IntList {
        private int[] data;
        private int size;

        IntList(int capacity) {
            data = new int[Math.max(capacity, 4)];
        }

        void add(int v) {
            if (size == data.length) data = java.util.Arrays.copyOf(data, size * 2);
            data[size++] = v;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
