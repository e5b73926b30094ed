package dev.ffmllama.format;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Low-level view of a GGUF file (v2 or v3): its metadata, its tensor table and the raw bytes of each
 * tensor, all read from a read-only memory mapping that this object owns. It knows nothing about
 * model architectures; {@link GgufModel} interprets it as a llama model. Every extent was checked
 * against the file size when the file was opened.
 */
public final class GgufFile implements AutoCloseable {
    private final MappedFile file;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensorInfos;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(MappedFile file, GgufParser.Parsed parsed) {
        this.file = file;
        this.version = parsed.version();
        this.metadata = parsed.metadata();
        this.tensorInfos = parsed.tensors();
        this.alignment = parsed.alignment();
        this.dataOffset = parsed.dataOffset();
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensorInfos) byName.put(t.name(), t);
        this.tensorsByName = Collections.unmodifiableMap(byName);
    }

    /** Maps and parses {@code path}; throws {@link ModelFormatException} when it is not a valid GGUF file. */
    public static GgufFile open(Path path) throws IOException {
        MappedFile file = MappedFile.map(path);
        try {
            return of(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Parses an already mapped file, taking ownership of it. */
    static GgufFile of(MappedFile file) {
        return new GgufFile(file, GgufParser.parse(file));
    }

    public Path path() {
        return file.path();
    }

    /** The file name, as used at the start of error messages. */
    public String source() {
        return file.source();
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** The tensor table in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    public Optional<GgufTensorInfo> tensorInfo(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    /** Tensor alignment in bytes (general.alignment, default 32). */
    public int alignment() {
        return alignment;
    }

    /** File offset of the tensor data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** The whole file as mapped (read-only). */
    public MemorySegment mapping() {
        return file.segment();
    }

    /** The raw bytes of a tensor of this file (read-only view of the mapping, whatever its type). */
    public MemorySegment tensorData(GgufTensorInfo info) {
        if (tensorsByName.get(info.name()) != info) {
            throw new IllegalArgumentException("tensor info " + info.name() + " does not belong to " + source());
        }
        return file.segment().asSlice(dataOffset + info.offset(), info.byteSize());
    }

    /** Whether the mapping is still open. */
    public boolean isOpen() {
        return file.isOpen();
    }

    /** Unmaps the file; views taken from it become unusable. Idempotent. */
    @Override
    public void close() {
        file.close();
    }
}
