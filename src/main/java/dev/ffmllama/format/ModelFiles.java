package dev.ffmllama.format;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Opens a model checkpoint whatever its format: files starting with the "GGUF" magic are read as
 * GGUF ({@link GgufModel}); anything else as a llama2.c legacy checkpoint ({@link Llama2cCheckpoint}),
 * which has no magic, only its 7-int header, and is then validated against its size. The files of
 * ggml's pre-GGUF formats (ggml, ggmf, ggjt, ggla magics) are recognized and rejected by name.
 */
public final class ModelFiles {
    private static final String[] LEGACY_GGML_MAGICS = {"lmgg", "fmgg", "tjgg", "algg"};

    private ModelFiles() {
    }

    /** Maps the file and returns a validated model; the caller closes it. */
    public static ModelFile open(Path path) throws IOException {
        MappedFile file = MappedFile.map(path);
        try {
            MemorySegment seg = file.segment();
            if (GgufParser.hasMagic(seg)) return GgufModel.of(file);
            rejectLegacyGgml(file);
            return Llama2cCheckpoint.of(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static void rejectLegacyGgml(MappedFile file) {
        if (file.size() < 4) return;
        byte[] head = file.segment().asSlice(0, 4).toArray(ValueLayout.JAVA_BYTE);
        String magic = new String(head, StandardCharsets.ISO_8859_1);
        for (String legacy : LEGACY_GGML_MAGICS) {
            if (legacy.equals(magic)) {
                throw new ModelFormatException(file.source() + ": a pre-GGUF ggml file ('"
                        + new StringBuilder(magic).reverse() + "' magic), which is not supported; convert it to GGUF");
            }
        }
    }
}
