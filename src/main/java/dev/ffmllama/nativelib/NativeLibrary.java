package dev.ffmllama.nativelib;

import dev.ffmllama.bindings.kernels.ffmllama_h;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.List;

/**
 * ffm-llama's own kernel library, {@code libffmllama.so}, loaded into this JVM.
 *
 * <p>The Maven build ({@code make -C native}) puts the library in the classpath folder
 * {@value #RESOURCE_FOLDER} (inside the jar, or {@code target/classes} when running from the build
 * tree). {@link #load()} copies it to the {@link LibraryCache} (an {@code dlopen} needs a real file)
 * and loads it with {@link System#load}.
 *
 * <p>Why {@code System.load} and not {@link SymbolLookup#libraryLookup}: the generated bindings
 * ({@link ffmllama_h}, made by jextract without {@code -l}) find symbols through
 * {@link SymbolLookup#loaderLookup()}, which sees exactly the libraries {@code System.load}-ed by this
 * class loader. A library opened with {@code libraryLookup} would be invisible to them, and since a
 * generated function's descriptor and address live in the same lazily initialized holder, even
 * {@code ffm_x$descriptor()} would fail. The library stays loaded for the life of the class loader,
 * which is what we want anyway.
 *
 * <p>Any failure (unsupported platform, missing resource, unwritable cache, {@code dlopen} error)
 * throws a {@link NativeLibraryException} naming the file, the platform and the reason; there is no
 * silent fallback to a Java backend.
 */
public final class NativeLibrary {
    /** Classpath folder (no leading slash) holding the library for the supported platform. */
    public static final String RESOURCE_FOLDER = "native/" + Platform.SUPPORTED;
    /** File name of the library. */
    public static final String FILE_NAME = "libffmllama.so";

    private static NativeLibrary instance; // guarded by NativeLibrary.class

    private final Path path;

    private NativeLibrary(Path path) {
        this.path = path;
    }

    /**
     * Extracts and loads the library on first call (later calls return the same instance).
     *
     * @throws NativeLibraryException if it cannot be found, extracted or loaded
     */
    public static synchronized NativeLibrary load() {
        if (instance == null) {
            Platform.requireSupported("the native kernel library " + FILE_NAME);
            ClassLoader loader = NativeLibrary.class.getClassLoader();
            if (loader.getResource(RESOURCE_FOLDER + "/" + FILE_NAME) == null) {
                throw new NativeLibraryException(FILE_NAME + " for " + Platform.current()
                        + " is not on the classpath (expected resource /" + RESOURCE_FOLDER + "/" + FILE_NAME
                        + "). It is built by 'make -C native' during 'mvn package'; build the project (mvn -DskipTests"
                        + " package, or scripts/ffm-llama) or use --backend vector / java.");
            }
            Path dir = LibraryCache.defaultCache().extract(loader, RESOURCE_FOLDER, List.of(FILE_NAME));
            Path file = dir.resolve(FILE_NAME);
            systemLoad(file, "the native kernel library");
            if (SymbolLookup.loaderLookup().find("ffm_kernel_variant").isEmpty()) {
                throw new NativeLibraryException(file + " loaded but does not export ffm_kernel_variant: it is not "
                        + "ffm-llama's kernel library, or a stale build; rebuild with mvn package.");
            }
            instance = new NativeLibrary(file);
        }
        return instance;
    }

    /**
     * {@link System#load} of {@code file} from this class loader (so generated bindings see its symbols),
     * turning a {@code dlopen} failure into a {@link NativeLibraryException} that names the file.
     */
    public static void systemLoad(Path file, String what) {
        try {
            System.load(file.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError | SecurityException e) {
            throw new NativeLibraryException("cannot load " + what + " " + file + " on " + Platform.current() + ": "
                    + e.getMessage() + (String.valueOf(e.getMessage()).contains("failed to map")
                            ? " (is the cache directory on a noexec mount? set -D" + LibraryCache.CACHE_DIR_PROPERTY
                                    + "=<dir>)" : ""), e);
        }
    }

    /** Absolute path of the loaded library file (in the extraction cache). */
    public Path path() {
        return path;
    }

    /** Name of the SIMD variant in use: {@code avx512}, {@code avx2} or {@code baseline}. */
    public String kernelVariant() {
        return ffmllama_h.ffm_kernel_variant().getString(0);
    }

    /** Space-separated CPU features the native dispatcher detected. */
    public String cpuFeatures() {
        return ffmllama_h.ffm_cpu_features().getString(0);
    }

    /**
     * Switches the native kernels to the named SIMD variant.
     *
     * @return false if the name is unknown or this CPU cannot run it (the current variant is kept)
     */
    public boolean setKernelVariant(String name) {
        try (Arena arena = Arena.ofConfined()) {
            return ffmllama_h.ffm_set_kernel_variant(arena.allocateFrom(name)) == 0;
        }
    }

    /** Calls {@code ffm_noop()}: one downcall that does nothing. */
    public void noop() {
        ffmllama_h.ffm_noop();
    }
}
