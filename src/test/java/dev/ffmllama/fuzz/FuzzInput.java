package dev.ffmllama.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one scratch file a fuzz run writes each input to: the parsers take paths (they map files),
 * so every execution rewrites this file and calls the real entry point on it. Created once per JVM
 * and deleted when it exits.
 */
final class FuzzInput {
    private static Path file;

    private FuzzInput() {
    }

    /** Replaces the scratch file's contents with {@code bytes} and returns its path. */
    static synchronized Path write(String suffix, byte[] bytes) {
        try {
            if (file == null) {
                file = Files.createTempFile("ffm-llama-fuzz-", suffix);
                file.toFile().deleteOnExit();
            }
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the fuzz input file", e);
        }
    }
}
