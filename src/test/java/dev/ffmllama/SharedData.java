package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared (models and goldens) for tests; see the ffmllama.shared property set by Surefire. */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        String prop = System.getProperty("ffmllama.shared");
        Path p = prop != null ? Path.of(prop) : Path.of("..", "shared");
        assertTrue(Files.isDirectory(p.resolve("models")),
                "shared test data not found at " + p.toAbsolutePath() + " (set -Dffmllama.shared=...)");
        return p;
    }

    public static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    public static Path golden(String relative) {
        return root().resolve("golden").resolve(relative);
    }

    public static int[] readInt32(Path p) {
        ByteBuffer b = read(p);
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    public static float[] readFloat32(Path p) {
        ByteBuffer b = read(p);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static ByteBuffer read(Path p) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
