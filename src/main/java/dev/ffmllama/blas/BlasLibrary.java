package dev.ffmllama.blas;

import dev.ffmllama.nativelib.LibraryCache;
import dev.ffmllama.nativelib.NativeLibrary;
import dev.ffmllama.nativelib.NativeLibraryException;
import dev.ffmllama.nativelib.Platform;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds and loads the CBLAS library {@link Blas} calls: the OpenBLAS bundled in the
 * {@code org.bytedeco:openblas} jar, or the library named by {@value #PROPERTY} / {@value #ENV}.
 *
 * <p>Bundled OpenBLAS: {@code libopenblas.so.0}, {@code libgfortran.so.5}, {@code libquadmath.so.0}
 * and {@code libgcc_s.so.1} are extracted together into one {@link LibraryCache} directory.
 * {@code readelf -d} shows {@code libopenblas.so.0} has {@code RUNPATH $ORIGIN/}, so its direct
 * dependency {@code libgfortran.so.5} is found next to it; but {@code RUNPATH} is not inherited, and
 * {@code libgfortran.so.5} has none, so its own dependencies ({@code libquadmath.so.0},
 * {@code libgcc_s.so.1}) would only be searched in the system paths. We therefore make sure those two
 * are loaded first: the system's copy if the dynamic linker finds one by name (so the process keeps a
 * single, system-matched {@code libgcc_s}), else the bundled copy by path. The dynamic linker then
 * satisfies libgfortran's {@code NEEDED} entries with the already loaded objects (it matches by soname).
 *
 * <p>The BLAS library itself is loaded with {@link System#load} for the same reason as our kernel
 * library (see {@link NativeLibrary}): the jextract bindings resolve {@code cblas_*} through
 * {@link SymbolLookup#loaderLookup()}.
 */
// Opening libraries is a restricted FFM operation: the launchers pass --enable-native-access, and the
// libraries opened here are exactly the ones this class documents.
@SuppressWarnings("restricted")
final class BlasLibrary {
    /** System property naming another CBLAS library file (system OpenBLAS, BLIS, MKL's libmkl_rt...). */
    static final String PROPERTY = "ffmllama.blas";
    /** Environment variable with the same meaning; the system property wins. */
    static final String ENV = "FFM_LLAMA_BLAS";

    static final String BUNDLED_FOLDER = "org/bytedeco/openblas/" + Platform.SUPPORTED;
    static final String OPENBLAS = "libopenblas.so.0";
    /** Runtime libraries of libgfortran, in load order, preferring the system's copies. */
    private static final List<String> GFORTRAN_RUNTIME = List.of("libgcc_s.so.1", "libquadmath.so.0");
    private static final List<String> BUNDLED_FILES = List.of(OPENBLAS, "libgfortran.so.5", "libquadmath.so.0",
            "libgcc_s.so.1");

    /** The loaded library: its file, whether it is the bundled OpenBLAS, and a lookup over its own symbols. */
    record Loaded(Path path, boolean bundled, SymbolLookup symbols) {
    }

    private BlasLibrary() {
    }

    /** Loads the configured CBLAS library, or the bundled OpenBLAS. Throws {@link NativeLibraryException}. */
    static Loaded load() {
        String configured = System.getProperty(PROPERTY);
        String source = "-D" + PROPERTY;
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENV);
            source = "$" + ENV;
        }
        Loaded loaded = configured == null || configured.isBlank() ? loadBundled() : loadConfigured(configured, source);
        for (String required : List.of("cblas_sgemv", "cblas_sgemm")) {
            if (loaded.symbols().find(required).isEmpty()) {
                throw new NativeLibraryException("the BLAS library " + loaded.path() + " does not export " + required
                        + ": it is not a CBLAS library (point " + PROPERTY + " / " + ENV + " at one that is).");
            }
        }
        return loaded;
    }

    private static Loaded loadConfigured(String value, String source) {
        Path file = Path.of(value).toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            throw new NativeLibraryException(source + "=" + value + " does not name a library file (" + file
                    + " not found). Give the full path of a CBLAS shared library, e.g. "
                    + "/usr/lib/x86_64-linux-gnu/libopenblas.so.0, or unset it to use the bundled OpenBLAS.");
        }
        NativeLibrary.systemLoad(file, "the BLAS library (from " + source + ")");
        return new Loaded(file, false, SymbolLookup.libraryLookup(file, Arena.global()));
    }

    private static Loaded loadBundled() {
        Platform.requireSupported("the bundled OpenBLAS");
        ClassLoader loader = BlasLibrary.class.getClassLoader();
        if (loader.getResource(BUNDLED_FOLDER + "/" + OPENBLAS) == null) {
            throw new NativeLibraryException("the bundled OpenBLAS (resource " + BUNDLED_FOLDER + "/" + OPENBLAS
                    + ") is not on the classpath: the org.bytedeco:openblas:linux-x86_64 jar is missing (it is in "
                    + "target/lib after mvn package). Or set " + PROPERTY + " / " + ENV + " to a CBLAS library.");
        }
        Path dir = LibraryCache.defaultCache().extract(loader, BUNDLED_FOLDER, BUNDLED_FILES);
        for (String runtime : GFORTRAN_RUNTIME) {
            preferSystemCopy(runtime, dir.resolve(runtime));
        }
        Path file = dir.resolve(OPENBLAS);
        NativeLibrary.systemLoad(file, "the bundled OpenBLAS");
        return new Loaded(file, true, SymbolLookup.libraryLookup(file, Arena.global()));
    }

    /** Loads {@code soname} from the system search path if present there, else {@code bundledCopy}. */
    private static void preferSystemCopy(String soname, Path bundledCopy) {
        try {
            SymbolLookup.libraryLookup(soname, Arena.global());
        } catch (IllegalArgumentException notOnSystem) {
            try {
                SymbolLookup.libraryLookup(bundledCopy, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new NativeLibraryException("cannot load " + bundledCopy + " (needed by the bundled OpenBLAS's "
                        + "libgfortran) on " + Platform.current() + ": " + e.getMessage(), e);
            }
        }
    }
}
