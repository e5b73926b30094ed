package dev.ffmllama.format;

import java.util.Arrays;
import java.util.Set;

/** Error messages shared by the {@link ModelFile} implementations, so both formats word them alike. */
final class TensorChecks {
    private TensorChecks() {
    }

    static ModelFormatException missing(String source, String name, Set<String> available) {
        return new ModelFormatException(source + ": has no tensor " + name + " (" + available.size() + " tensors present)");
    }

    /** Throws unless {@code expected} is empty (no check wanted) or equals {@code actual}. */
    static void checkShape(String source, String name, long[] actual, long[] expected) {
        if (expected.length != 0 && !Arrays.equals(actual, expected)) {
            throw new ModelFormatException(source + ": tensor " + name + " has shape " + Arrays.toString(actual)
                    + " but the model config needs " + Arrays.toString(expected));
        }
    }
}
