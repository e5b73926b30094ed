package dev.ffmllama.engine;

import static dev.ffmllama.format.LlamaTensorLayout.ATTN_K;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_Q;
import static dev.ffmllama.format.LlamaTensorLayout.ATTN_V;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_DOWN;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_GATE;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.FFN_UP;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.POST_ATTN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.POST_ATTN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.POST_FFN_NORM;
import static dev.ffmllama.format.LlamaTensorLayout.POST_FFN_NORM_BIAS;
import static dev.ffmllama.format.LlamaTensorLayout.TOKEN_EMBEDDING;
import static dev.ffmllama.format.LlamaTensorLayout.block;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.format.TypedTensor;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.tensor.WeightType;
import dev.ffmllama.layout.HugePages;
import dev.ffmllama.layout.Layout;
import java.lang.foreign.MemorySegment;

/**
 * All tensors of a LLaMA-style model, resolved once at load time from a {@link ModelFile}: each is
 * checked against the config's shape, and kept as a segment view into the mapping (no copy), so
 * the forward pass never looks anything up or allocates. Which norm tensors exist follows the
 * config's {@link NormSpec}: LayerNorm biases, the sandwich's post-sublayer norms, and an optional
 * final norm. Matrices keep their storage type (F32, F16, BF16, Q8_0, Q4_0), or are converted
 * once at load time into off-heap copies when a {@code convertTo} type is given.
 *
 * <p>The weight keys of a {@link Layout} change how the matrices are held, each by a load-time copy
 * into off-heap memory these weights own (freed by {@link #close()}): fused Q/K/V and gate/up matrices,
 * transposed F32 matrices, 64-byte-aligned copies of every tensor, huge pages (see {@link Layout}).
 * With {@code matrix=auto} (the default) the matrices stay rows here, and {@link #arrangedFor} gives each
 * backend's sessions the view it reads fastest, made once, when the first one asks: native sessions F32
 * matrices as transposed copies, Java sessions F32 matrices as rows, copied to a 64-byte boundary where the
 * file leaves them off one.
 */
public final class Weights implements AutoCloseable {
    final Linear tokenEmbedding;        // [vocab, dim], read a row at a time
    final LayerWeights[] layers;
    final NormWeights outputNorm;       // null when the file has no output_norm.weight
    final Linear classifier;            // [vocab, dim]; the embedding itself when tied (and not transposed)

    private final ModelFile file;
    private final WeightType convertTo;
    private final Layout layout;
    /** The load-time copies (conversion, layouts); null when every tensor is used in place. */
    private final OffHeapMemory memory;
    /** Span of the tensors used in place in the mapping (for madvise), as [min address, max end). */
    private long mappedFrom = Long.MAX_VALUE, mappedTo = Long.MIN_VALUE;
    private final long hugePageBytesAdvised;
    /** matrix=auto: the native backend's view (F32 matrices transposed), made on first use; else null. */
    private Weights nativeView;
    /** matrix=auto: the Java backends' view (misaligned F32 matrices copied aligned), made on first use; else null. */
    private Weights javaView;
    private boolean closed;

    /** The weights as stored; throws ModelFormatException if a tensor is missing or misshapen. */
    public Weights(ModelFile file) {
        this(file, null, Layout.defaults());
    }

    /**
     * Resolves and shape-checks every tensor the decoder needs. With a {@code convertTo} type, every
     * matrix is converted to it once; the {@code layout}'s weight keys then decide how matrices are held.
     *
     * @throws IllegalArgumentException if the layout has KV-cache keys (those belong to a session) or asks
     *                                  for transposed matrices of a type other than F32
     */
    public Weights(ModelFile file, WeightType convertTo, Layout layout) {
        if (layout.hasCacheKeys()) {
            throw new IllegalArgumentException("layout " + layout + " has KV-cache keys (kv, kv-type): those are a "
                    + "session's layout (SessionOptions.withLayout), not the model's");
        }
        this.file = file;
        this.convertTo = convertTo;
        this.layout = layout;
        boolean copies = convertTo != null || layout.qkv() == Layout.Fusion.FUSED || layout.ffn() == Layout.Fusion.FUSED
                || layout.matrix() == Layout.MatrixOrder.TRANSPOSED || layout.align() == Layout.Alignment.ALIGNED_64;
        this.memory = copies ? new OffHeapMemory(layout.hugePages()) : null;
        try {
            ModelConfig c = file.config();
            long dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
            boolean sandwich = c.norm().hasPostSublayerNorms();
            boolean fusedQkv = layout.qkv() == Layout.Fusion.FUSED, fusedFfn = layout.ffn() == Layout.Fusion.FUSED;
            TypedTensor embedding = stored(TOKEN_EMBEDDING, vocab, dim);
            tokenEmbedding = Linear.of(placed(embedding)); // looked up by rows: never transposed
            layers = new LayerWeights[c.nLayers()];
            for (int l = 0; l < layers.length; l++) {
                TypedTensor q = stored(block(l, ATTN_Q), dim, dim);
                TypedTensor k = stored(block(l, ATTN_K), kvDim, dim);
                TypedTensor v = stored(block(l, ATTN_V), kvDim, dim);
                TypedTensor gate = stored(block(l, FFN_GATE), hidden, dim);
                TypedTensor up = stored(block(l, FFN_UP), hidden, dim);
                layers[l] = new LayerWeights(
                        norm(block(l, ATTN_NORM), block(l, ATTN_NORM_BIAS)),
                        fusedQkv ? null : linear(q), fusedQkv ? null : linear(k), fusedQkv ? null : linear(v),
                        fusedQkv ? linear(WeightLayouts.concatRows(memory, q, k, v)) : null,
                        linear(stored(block(l, ATTN_OUTPUT), dim, dim)),
                        norm(block(l, FFN_NORM), block(l, FFN_NORM_BIAS)),
                        fusedFfn ? null : linear(gate),
                        linear(stored(block(l, FFN_DOWN), dim, hidden)),
                        fusedFfn ? null : linear(up),
                        fusedFfn ? linear(WeightLayouts.concatRows(memory, gate, up)) : null,
                        sandwich ? norm(block(l, POST_ATTN_NORM), block(l, POST_ATTN_NORM_BIAS)) : null,
                        sandwich ? norm(block(l, POST_FFN_NORM), block(l, POST_FFN_NORM_BIAS)) : null);
            }
            outputNorm = file.hasTensor(OUTPUT_NORM) ? norm(OUTPUT_NORM, OUTPUT_NORM_BIAS) : null;
            boolean tied = !file.hasTensor(OUTPUT);
            classifier = tied && layout.matrix() != Layout.MatrixOrder.TRANSPOSED ? tokenEmbedding
                    : linear(tied ? embedding : stored(OUTPUT, vocab, dim));
            hugePageBytesAdvised = layout.hugePages() && mappedFrom < mappedTo
                    ? HugePages.advise(mappedFrom, mappedTo - mappedFrom) : 0;
        } catch (RuntimeException | Error e) {
            if (memory != null) memory.close();
            throw e;
        }
    }

    /** How a {@code matrix=auto} view holds the F32 matrices of the weights it is made from. */
    private enum Arrangement {
        /** Native sessions: {@code Wᵀ}, so one-row OpenBLAS calls run {@code sgemv_n}, which streams faster. */
        TRANSPOSED,
        /**
         * Java sessions: the rows, 64-byte aligned. Measured (stories110M, vector backend, Zen 5): rows at
         * llama2.c's offsets (28 + 4k bytes) split every other 64-byte vector load across two cache lines,
         * 42 vs 60 tok/s at one thread, 73 vs 99 at two.
         */
        ALIGNED
    }

    /**
     * A {@code matrix=auto} view of {@code rows}: every F32 matrix (the classifier too, also when it is the
     * tied embedding) arranged as {@code arrangement} says, in memory this view owns (an aligned matrix is
     * shared, not copied); matrices of other types, the embedding lookup and the norms are shared with
     * {@code rows}.
     */
    private Weights(Weights rows, Arrangement arrangement) {
        this.file = rows.file;
        this.convertTo = rows.convertTo;
        this.layout = rows.layout;
        this.memory = new OffHeapMemory(layout.hugePages());
        try {
            this.tokenEmbedding = rows.tokenEmbedding;
            this.layers = new LayerWeights[rows.layers.length];
            for (int l = 0; l < layers.length; l++) {
                layers[l] = rows.layers[l].withMatrices(m -> arranged(m, arrangement));
            }
            this.outputNorm = rows.outputNorm;
            this.classifier = arranged(rows.classifier, arrangement);
            this.hugePageBytesAdvised = 0;
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }

    private Linear arranged(Linear m, Arrangement arrangement) {
        if (m.transposed() || m.type() != WeightType.F32) return m;
        return switch (arrangement) {
            case TRANSPOSED -> Linear.transposed(
                    WeightLayouts.transpose(new TypedTensor(WeightType.F32, m.data(), new long[] {m.out(), m.in()}), memory),
                    m.out(), m.in());
            case ALIGNED -> isAligned(m) ? m
                    : new Linear(m.type(), WeightLayouts.copy(m.data(), memory), m.out(), m.in(), false);
        };
    }

    private static boolean isAligned(Linear m) {
        return m.data().address() % OffHeapMemory.ALIGNMENT == 0;
    }

    /**
     * The weights as {@code backend}'s sessions should read them. With {@code matrix=auto}: native
     * sessions get the view whose F32 matrices are transposed; Java sessions get these weights, or, when
     * an F32 matrix lies off a 64-byte boundary in the file (llama2.c checkpoints: always), a view with
     * aligned copies of those. Each view is made on the first call, then shared by every session of its
     * kind, and closed with these weights. With a fixed matrix order, and for models without F32 matrices,
     * these weights themselves.
     *
     * @throws IllegalStateException if these weights are closed
     */
    public synchronized Weights arrangedFor(Backend backend) {
        if (closed) throw new IllegalStateException("weights are closed");
        if (layout.matrix() != Layout.MatrixOrder.AUTO) return this;
        if (backend == Backend.NATIVE) {
            if (!hasF32Matrix(m -> true)) return this;
            if (nativeView == null) nativeView = new Weights(this, Arrangement.TRANSPOSED);
            return nativeView;
        }
        if (!hasF32Matrix(m -> !isAligned(m))) return this;
        if (javaView == null) javaView = new Weights(this, Arrangement.ALIGNED);
        return javaView;
    }

    /** Whether some F32 matrix stored as rows (the classifier included) satisfies {@code test}. */
    private boolean hasF32Matrix(java.util.function.Predicate<Linear> test) {
        if (classifier.type() == WeightType.F32 && !classifier.transposed() && test.test(classifier)) return true;
        for (LayerWeights lw : layers) {
            for (Linear m : lw.matrices()) {
                if (m.type() == WeightType.F32 && !m.transposed() && test.test(m)) return true;
            }
        }
        return false;
    }

    /** A matrix in its stored type, or converted to {@code convertTo} (a copy). */
    private TypedTensor stored(String name, long out, long in) {
        TypedTensor t = file.weight(name, out, in);
        return convertTo == null ? t : WeightConversion.convert(name, t, convertTo, memory);
    }

    /** The layer applying {@code t}: transposed (a copy) or by rows, where the layout puts it. */
    private Linear linear(TypedTensor t) {
        if (layout.matrix() != Layout.MatrixOrder.TRANSPOSED) return Linear.of(placed(t));
        if (t.type() != WeightType.F32) {
            throw new IllegalArgumentException("matrix=transposed needs F32 weights, but " + t + " is " + t.type()
                    + " (its rows are quantized blocks): use matrix=rows, or --weights f32");
        }
        return Linear.transposed(WeightLayouts.transpose(t, memory), t.rows(), t.cols());
    }

    /** {@code t} as used: a 64-byte-aligned copy with align=64 (unless it is a copy already), else itself. */
    private TypedTensor placed(TypedTensor t) {
        return new TypedTensor(t.type(), placed(t.data()), t.shape());
    }

    private MemorySegment placed(MemorySegment s) {
        if (memory != null && memory.owns(s)) return s;
        if (layout.align() == Layout.Alignment.ALIGNED_64) return WeightLayouts.copy(s, memory);
        mappedFrom = Math.min(mappedFrom, s.address());
        mappedTo = Math.max(mappedTo, s.address() + s.byteSize());
        return s;
    }

    /** Bytes of weights one decoded token reads: every matrix once (the embedding only one row). */
    public long bytesReadPerToken() {
        long sum = classifier.byteSize() + tokenEmbedding.byteSize() / Math.max(1, tokenEmbedding.out());
        for (LayerWeights lw : layers) {
            for (Linear m : lw.matrices()) sum += m.byteSize();
        }
        return sum;
    }

    /** The layout these weights were loaded with. */
    public Layout layout() {
        return layout;
    }

    /** Bytes of the file mapping advised for huge pages (hugepages=on with weights used in place), else 0. */
    public long hugePageBytesAdvised() {
        return hugePageBytesAdvised;
    }

    /** Whether Wq, Wk, Wv are one matrix. */
    boolean fusedQkv() {
        return layers.length > 0 && layers[0].wqkv() != null;
    }

    /** Whether W1 and W3 are one matrix. */
    boolean fusedFfn() {
        return layers.length > 0 && layers[0].ffnGateUp() != null;
    }

    /**
     * Frees the load-time copies, if any, and the native view's (the mapping belongs to the
     * {@link ModelFile}). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (nativeView != null) nativeView.close();
        if (javaView != null) javaView.close();
        if (memory != null) memory.close();
    }

    /** A norm's weight, and its bias when the model's norm is a LayerNorm (the bias is then required). */
    private NormWeights norm(String weightName, String biasName) {
        ModelConfig c = file.config();
        MemorySegment weight = placed(file.tensor(weightName, c.dim()).segment());
        MemorySegment bias = c.norm().hasBias() ? placed(file.tensor(biasName, c.dim()).segment()) : null;
        return new NormWeights(weight, bias);
    }
}
