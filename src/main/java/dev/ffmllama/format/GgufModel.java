package dev.ffmllama.format;

import java.lang.foreign.MemorySegment;
import static dev.ffmllama.format.LlamaTensorLayout.OUTPUT;
import static dev.ffmllama.format.LlamaTensorLayout.TOKEN_EMBEDDING;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tensor.WeightType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A GGUF file read as a llama model: the config comes from the {@code llama.*} metadata, tensors are
 * views of the mapping, and the vocabulary from the {@code tokenizer.ggml.*} metadata. Every tensor
 * the config implies is checked for presence and shape when the file opens (whatever its type);
 * {@link #tensor} then serves F32 tensors and names the type of any other. {@link #gguf()} gives the
 * low-level view (metadata, tensor table, raw bytes) for readers of other tensor types.
 */
public final class GgufModel implements ModelFile {
    public static final String FORMAT = "gguf";
    static final String SUPPORTED_ARCHITECTURE = "llama";

    private final GgufFile gguf;
    private final ModelConfig config;
    private final Set<String> tensorNames;
    private Optional<Vocabulary> vocabulary; // parsed on first request, guarded by this

    private GgufModel(GgufFile gguf) {
        this.gguf = gguf;
        this.config = readConfig(gguf);
        checkTensorShapes();
        Set<String> names = new LinkedHashSet<>();
        for (GgufTensorInfo t : gguf.tensorInfos()) names.add(t.name());
        names.add(OUTPUT);
        this.tensorNames = Collections.unmodifiableSet(names);
    }

    /** Opens and validates a GGUF llama model. */
    public static GgufModel open(Path path) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            return new GgufModel(gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** Reads an already mapped file, taking ownership of it (closed here on failure). */
    static GgufModel of(MappedFile file) {
        GgufFile gguf = GgufFile.of(file);
        try {
            return new GgufModel(gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** The low-level view of the file. */
    public GgufFile gguf() {
        return gguf;
    }

    @Override
    public Path path() {
        return gguf.path();
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
        return tensorNames;
    }

    @Override
    public Tensor tensor(String name, long... expectedShape) {
        // A tied classifier is reported as output.weight viewing the embedding.
        String stored = name.equals(OUTPUT) && config.sharedClassifier() ? TOKEN_EMBEDDING : name;
        GgufTensorInfo info = gguf.tensorInfo(stored)
                .orElseThrow(() -> TensorChecks.missing(gguf.source(), name, tensorNames));
        if (info.type() != GgmlType.F32) {
            throw new ModelFormatException(gguf.source() + ": tensor " + name + " has type " + info.type()
                    + ", which is not supported (supported: F32)");
        }
        TensorChecks.checkShape(gguf.source(), name, info.shape(), expectedShape);
        var data = gguf.tensorData(info);
        if (data.address() % DType.F32.byteSize() != 0) {
            throw new ModelFormatException(gguf.source() + ": F32 tensor " + name + " is not 4-byte aligned in the file"
                    + " (general.alignment " + gguf.alignment() + ")");
        }
        return Tensor.wrap(data, DType.F32, info.shape());
    }

    @Override
    public TypedTensor weight(String name, long... expectedShape) {
        String stored = name.equals(OUTPUT) && config.sharedClassifier() ? TOKEN_EMBEDDING : name;
        GgufTensorInfo info = gguf.tensorInfo(stored)
                .orElseThrow(() -> TensorChecks.missing(gguf.source(), name, tensorNames));
        WeightType type = WeightType.byGgmlId(info.type().id());
        if (type == null) {
            throw new ModelFormatException(gguf.source() + ": tensor " + name + " has type " + info.type()
                    + ", which is not supported (supported: F32, F16, BF16, Q8_0, Q4_0)");
        }
        if (type == WeightType.F32) {
            Tensor t = tensor(name, expectedShape);
            return new TypedTensor(type, t.segment(), t.shape());
        }
        TensorChecks.checkShape(gguf.source(), name, info.shape(), expectedShape);
        return new TypedTensor(type, gguf.tensorData(info), info.shape());
    }

    @Override
    public MemorySegment mapping() {
        return gguf.mapping();
    }

    @Override
    public synchronized Optional<Vocabulary> vocabulary() {
        if (vocabulary == null) {
            vocabulary = GgufVocabulary.read(gguf.metadata(), gguf.source(), config.vocabSize());
        }
        return vocabulary;
    }

    @Override
    public void close() {
        gguf.close();
    }

    private static ModelConfig readConfig(GgufFile gguf) {
        GgufMetadata md = gguf.metadata();
        String source = gguf.source();
        String arch = md.getString("general.architecture");
        if (!arch.equals(SUPPORTED_ARCHITECTURE)) {
            throw new ModelFormatException(source + ": general.architecture is '" + arch
                    + "', which is not supported (supported: " + SUPPORTED_ARCHITECTURE + ")");
        }
        String p = arch + ".";
        GgufTensorInfo embedding = gguf.tensorInfo(TOKEN_EMBEDDING)
                .orElseThrow(() -> new ModelFormatException(source + ": has no tensor " + TOKEN_EMBEDDING));
        long[] embShape = embedding.shape();
        if (embShape.length != 2 || embShape[0] > Integer.MAX_VALUE) {
            throw new ModelFormatException(source + ": tensor " + TOKEN_EMBEDDING + " has shape "
                    + java.util.Arrays.toString(embShape) + ", expected [vocab, dim]");
        }
        int nHeads = md.getInt(p + "attention.head_count");
        int nLayers = md.getInt(p + "block_count");
        NormSpec norm = readNormSpec(md, source, p, nLayers);
        String epsKey = p + (norm.type() == NormSpec.Type.LAYERNORM
                ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon");
        ModelConfig config = new ModelConfig(
                md.getInt(p + "embedding_length"),
                md.getInt(p + "feed_forward_length"),
                nLayers,
                nHeads,
                md.getInt(p + "attention.head_count_kv", nHeads),
                (int) embShape[0],
                md.getInt(p + "context_length"),
                md.getFloat(p + "rope.freq_base", 10000f),
                md.getFloat(epsKey, 1e-5f),
                gguf.tensorInfo(OUTPUT).isEmpty(),
                norm).validate(source);
        String ropeDims = p + "rope.dimension_count";
        if (md.has(ropeDims) && md.getLong(ropeDims) != config.headSize()) {
            throw new ModelFormatException(source + ": " + ropeDims + " = " + md.getLong(ropeDims)
                    + " but the head size is " + config.headSize() + " (partial RoPE is not supported)");
        }
        return config;
    }

    /**
     * The normalization variant: {@code <arch>.norm_type} (rmsnorm | layernorm),
     * {@code <arch>.norm_placement} (pre | post | sandwich | deepnorm) and {@code <arch>.deepnorm_alpha}
     * (default (2N)^¼). Absent keys mean LLaMA's Pre-RMSNorm.
     */
    private static NormSpec readNormSpec(GgufMetadata md, String source, String p, int nLayers) {
        NormSpec.Type type;
        NormSpec.Placement placement;
        try {
            type = NormSpec.Type.parse(md.getString(p + "norm_type", NormSpec.Type.RMSNORM.key()));
            placement = NormSpec.Placement.parse(md.getString(p + "norm_placement", NormSpec.Placement.PRE.key()));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage());
        }
        String alphaKey = p + "deepnorm_alpha";
        if (placement != NormSpec.Placement.DEEPNORM) {
            if (md.has(alphaKey)) {
                throw new ModelFormatException(source + ": " + alphaKey + " is set but " + p + "norm_placement is "
                        + placement.key() + ", not deepnorm");
            }
            return new NormSpec(type, placement, 1f);
        }
        float alpha = md.getFloat(alphaKey, NormSpec.defaultDeepNormAlpha(Math.max(nLayers, 1)));
        if (!(alpha > 0) || Float.isInfinite(alpha)) {
            throw new ModelFormatException(source + ": " + alphaKey + " = " + alpha + " is not a positive number");
        }
        return new NormSpec(type, placement, alpha);
    }

    /**
     * Checks block after block (never building a table as long as the untrusted block_count), so a
     * hostile count fails at the first missing tensor. The final norm is optional (post-norm models
     * may have none); the classifier is absent when tied to the embedding.
     */
    private void checkTensorShapes() {
        checkTensor(TOKEN_EMBEDDING, new long[] {config.vocabSize(), config.dim()});
        Map<String, long[]> block = LlamaTensorLayout.blockShapes(config);
        for (int l = 0; l < config.nLayers(); l++) {
            for (Map.Entry<String, long[]> e : block.entrySet()) {
                checkTensor(LlamaTensorLayout.block(l, e.getKey()), e.getValue());
            }
        }
        if (gguf.tensorInfo(LlamaTensorLayout.OUTPUT_NORM).isPresent()) {
            checkTensor(LlamaTensorLayout.OUTPUT_NORM, new long[] {config.dim()});
            if (config.norm().hasBias()) checkTensor(LlamaTensorLayout.OUTPUT_NORM_BIAS, new long[] {config.dim()});
        }
        if (!config.sharedClassifier()) checkTensor(OUTPUT, new long[] {config.vocabSize(), config.dim()});
    }

    private void checkTensor(String name, long[] shape) {
        GgufTensorInfo info = gguf.tensorInfo(name)
                .orElseThrow(() -> new ModelFormatException(gguf.source() + ": has no tensor " + name
                        + ", which a llama model with " + config.nLayers() + " blocks needs"));
        TensorChecks.checkShape(gguf.source(), name, info.shape(), shape);
    }
}
