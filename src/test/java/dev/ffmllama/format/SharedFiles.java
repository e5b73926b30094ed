package dev.ffmllama.format;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared read-only test data (system property {@code ffmllama.shared}, set by surefire). */
public final class SharedFiles {
    private SharedFiles() {
    }

    public static Path root() {
        String prop = System.getProperty("ffmllama.shared");
        Path root = prop != null ? Path.of(prop) : Path.of("..", "shared");
        if (!Files.isDirectory(root.resolve("models"))) {
            throw new IllegalStateException("shared test data not found at " + root.toAbsolutePath()
                    + " (set -Dffmllama.shared=/path/to/shared)");
        }
        return root;
    }

    /** A file under shared/models. */
    public static Path model(String name) {
        return existing(root().resolve("models").resolve(name));
    }

    /** A file under shared/golden. */
    public static Path golden(String relative) {
        return existing(root().resolve("golden").resolve(relative));
    }

    private static Path existing(Path p) {
        if (!Files.isRegularFile(p)) throw new IllegalStateException("missing shared test file " + p.toAbsolutePath());
        return p;
    }
}
