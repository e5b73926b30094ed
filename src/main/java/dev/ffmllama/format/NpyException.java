package dev.ffmllama.format;

import java.nio.file.Path;

/** A {@code .npy} file that cannot be read as asked; the message names the file and the problem. */
public final class NpyException extends ModelFormatException {
    public NpyException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public NpyException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
