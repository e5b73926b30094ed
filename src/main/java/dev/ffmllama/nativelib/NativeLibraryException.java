package dev.ffmllama.nativelib;

/**
 * A native library (ours or the BLAS library) could not be found, extracted or loaded. The message
 * always names the file, the platform and the reason. It is an {@link IllegalStateException} so the
 * CLI reports it as one line; nothing ever falls back to a Java backend silently when this is thrown.
 */
public final class NativeLibraryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
