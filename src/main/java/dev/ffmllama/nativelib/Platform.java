package dev.ffmllama.nativelib;

import java.util.Locale;

/**
 * The operating system / CPU pair the JVM runs on, and whether ffm-llama ships native libraries for
 * it. Only Linux on x86-64 is supported for now: both our kernels (native/) and the bundled OpenBLAS
 * exist only as {@code linux-x86_64} builds. Other platforms can still use the {@code vector} and
 * {@code java} backends.
 */
public final class Platform {
    /** The one platform native libraries are built for; also the resource folder name in the jar. */
    public static final String SUPPORTED = "linux-x86_64";

    private Platform() {
    }

    /** {@code os-arch} of this JVM, normalized the way our resource folders are named (e.g. {@code linux-x86_64}). */
    public static String current() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
        String osName = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macos"
                : os.startsWith("windows") ? "windows" : os.replace(' ', '_');
        String archName = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osName + "-" + archName;
    }

    /** Whether {@link #current()} is a platform we have native libraries for. */
    public static boolean isSupported() {
        return SUPPORTED.equals(current());
    }

    /**
     * Throws a {@link NativeLibraryException} naming {@code what} and the platform unless this platform
     * is supported.
     */
    public static void requireSupported(String what) {
        if (!isSupported()) {
            throw new NativeLibraryException(what + " is only built for " + SUPPORTED + ", but this JVM runs on "
                    + current() + " (os.name=" + System.getProperty("os.name") + ", os.arch="
                    + System.getProperty("os.arch") + "). Use --backend vector or --backend java here.");
        }
    }
}
