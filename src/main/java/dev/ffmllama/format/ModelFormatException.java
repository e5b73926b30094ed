package dev.ffmllama.format;

/**
 * A model, tokenizer or tensor file that cannot be used: bad magic, truncated data, inconsistent
 * header fields, unsupported tensor type... The message names the file and the offending field.
 */
public class ModelFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
