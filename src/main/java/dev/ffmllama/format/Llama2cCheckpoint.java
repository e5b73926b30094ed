package dev.ffmllama.format;

import java.lang.foreign.MemorySegment;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_K;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_Q;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_V;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_DOWN;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_GATE;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_UP;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.TOKEN_EMBEDDING;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A llama2.c legacy checkpoint ({@code run.c} format, version 0): a header of 7 little-endian int32
 * ({@code dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}; a negative vocab size
 * means the classifier is stored separately at the end) followed by float32 arrays in a fixed order.
 * The file size must be exactly what the header implies; it is checked with overflow-checked
 * arithmetic before any view is made. RoPE theta is 10000 and the RMSNorm epsilon 1e-5, as run.c uses.
 */
public final class Llama2cCheckpoint implements ModelFile {
    public static final String FORMAT = "llama2c";
    public static final int HEADER_BYTES = 7 * Integer.BYTES;
    public static final float ROPE_THETA = 10000f;
    public static final float NORM_EPS = 1e-5f;

    /** Where one tensor lives in the file. */
    private record Entry(long offset, long[] shape) {
    }

    private final MappedFile file;
    private final ModelConfig config;
    private final Map<String, Entry> entries;

    private Llama2cCheckpoint(MappedFile file, ModelConfig config, Map<String, Entry> entries) {
        this.file = file;
        this.config = config;
        this.entries = Collections.unmodifiableMap(entries);
    }

    /** Maps and validates a checkpoint. */
    public static Llama2cCheckpoint open(Path path) throws IOException {
        MappedFile file = MappedFile.map(path);
        try {
            return of(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Reads an already mapped file, taking ownership of it on success. */
    static Llama2cCheckpoint of(MappedFile file) {
        String source = file.source() + " (llama2.c checkpoint)";
        if (file.size() < HEADER_BYTES) {
            throw new ModelFormatException(source + ": the file has " + file.size()
                    + " bytes, fewer than the 28-byte header (and no GGUF magic)");
        }
        BoundedReader header = new BoundedReader(file.segment(), source);
        int dim = header.i32("dim");
        int hiddenDim = header.i32("hidden_dim");
        int nLayers = header.i32("n_layers");
        int nHeads = header.i32("n_heads");
        int nKvHeads = header.i32("n_kv_heads");
        int rawVocab = header.i32("vocab_size");
        int seqLen = header.i32("seq_len");
        if (rawVocab == Integer.MIN_VALUE) {
            throw new ModelFormatException(source + ": vocab_size = " + rawVocab + " is out of range");
        }
        boolean shared = rawVocab > 0;
        ModelConfig config = new ModelConfig(dim, hiddenDim, nLayers, nHeads, nKvHeads, Math.abs(rawVocab), seqLen,
                ROPE_THETA, NORM_EPS, shared).validate(source);
        String fields = "dim=" + dim + ", hidden_dim=" + hiddenDim + ", n_layers=" + nLayers + ", n_heads=" + nHeads
                + ", n_kv_heads=" + nKvHeads + ", vocab_size=" + rawVocab + ", seq_len=" + seqLen;

        long end;
        try {
            end = layOut(config, null); // size only: a hostile n_layers must not build a huge table first
        } catch (ArithmeticException e) {
            throw new ModelFormatException(source + ": header says " + fields + ", which needs more than 2^63 bytes");
        }
        if (end != file.size()) {
            String why = end > file.size() ? "(truncated?)"
                    : "(" + (file.size() - end) + " bytes too many: header fields wrong, or not a llama2.c checkpoint?)";
            throw new ModelFormatException(source + ": header says " + fields + ", needing " + end
                    + " bytes but the file has " + file.size() + " bytes " + why);
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        layOut(config, entries);
        return new Llama2cCheckpoint(file, config, entries);
    }

    /**
     * Records the offset and shape of every tensor in run.c's order and returns the total file size.
     * Stacked per-layer arrays ({@code wq[L][dim][dim]}...) become one entry per block. With
     * {@code entries} null only the size is computed, in time independent of the header's values.
     */
    private static long layOut(ModelConfig c, Map<String, Entry> entries) {
        long dim = c.dim(), hidden = c.hiddenDim(), kvDim = c.kvDim(), vocab = c.vocabSize();
        int layers = c.nLayers();
        long[] pos = {HEADER_BYTES};
        add(entries, pos, TOKEN_EMBEDDING, vocab, dim);
        addStacked(entries, pos, layers, ATTN_NORM, dim);
        addStacked(entries, pos, layers, ATTN_Q, dim, dim);
        addStacked(entries, pos, layers, ATTN_K, kvDim, dim);
        addStacked(entries, pos, layers, ATTN_V, kvDim, dim);
        addStacked(entries, pos, layers, ATTN_OUTPUT, dim, dim);
        addStacked(entries, pos, layers, FFN_NORM, dim);
        addStacked(entries, pos, layers, FFN_GATE, hidden, dim);
        addStacked(entries, pos, layers, FFN_DOWN, dim, hidden);
        addStacked(entries, pos, layers, FFN_UP, hidden, dim);
        add(entries, pos, OUTPUT_NORM, dim);
        // Two legacy RoPE tables (freq_cis_real / freq_cis_imag), unused: RoPE is computed.
        long ropeTable = Math.multiplyExact((long) c.contextLength(), c.headSize() / 2);
        pos[0] = Math.addExact(pos[0], Math.multiplyExact(2 * ropeTable, (long) Float.BYTES));
        if (c.sharedClassifier()) {
            if (entries != null) entries.put(OUTPUT, entries.get(TOKEN_EMBEDDING));
        } else {
            add(entries, pos, OUTPUT, vocab, dim);
        }
        return pos[0];
    }

    private static void add(Map<String, Entry> entries, long[] pos, String name, long... shape) {
        if (entries != null) entries.put(name, new Entry(pos[0], shape));
        pos[0] = Math.addExact(pos[0], bytes(shape));
    }

    private static void addStacked(Map<String, Entry> entries, long[] pos, int layers, String suffix, long... shape) {
        if (entries == null) {
            pos[0] = Math.addExact(pos[0], Math.multiplyExact(layers, bytes(shape)));
            return;
        }
        for (int l = 0; l < layers; l++) add(entries, pos, LlamaTensorLayout.block(l, suffix), shape);
    }

    private static long bytes(long[] shape) {
        long n = Float.BYTES;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public String format() {
        return FORMAT;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Set<String> tensorNames() {
        return entries.keySet();
    }

    @Override
    public Tensor tensor(String name, long... expectedShape) {
        Entry e = entries.get(name);
        if (e == null) throw TensorChecks.missing(file.source(), name, entries.keySet());
        TensorChecks.checkShape(file.source(), name, e.shape(), expectedShape);
        return Tensor.wrap(file.segment().asSlice(e.offset(), bytes(e.shape())), DType.F32, e.shape());
    }

    /** llama2.c checkpoints carry no vocabulary: it is a separate tokenizer file. */
    @Override
    public MemorySegment mapping() {
        return file.segment();
    }

    @Override
    public Optional<Vocabulary> vocabulary() {
        return Optional.empty();
    }

    @Override
    public void close() {
        file.close();
    }
}
