package dev.ffmllama.blas;

import dev.ffmllama.bindings.cblas.cblas_h;
import dev.ffmllama.nativelib.NativeLibraryException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Single-precision linear layers on a CBLAS library: by default the OpenBLAS bundled in the
 * {@code org.bytedeco:openblas} jar; the system property {@code ffmllama.blas} or the environment
 * variable {@code FFM_LLAMA_BLAS} can name any other CBLAS shared library file instead (a system
 * OpenBLAS, BLIS, MKL's {@code libmkl_rt.so}). The {@code openblas_*} extras are optional there: without
 * them {@link #setThreads} does nothing, {@link #threads()} is empty and {@link #config()} is
 * {@code "unknown"}.
 *
 * <p>Calls go through the jextract bindings ({@link cblas_h}) as ordinary (non-critical) downcalls:
 * a GEMM can run long and OpenBLAS starts its own threads, so the GC must not be held off meanwhile.
 * The library is {@code System.load}-ed, so the generated wrappers resolve it through the class
 * loader's lookup. Their per-function holders look the symbol up on first use and throw if it is
 * absent, so the optional {@code openblas_*} functions are only touched after checking the library
 * exports them.
 */
public final class Blas {
    private static Blas instance; // guarded by Blas.class

    private final Path path;
    private final boolean bundled;
    private final boolean hasOpenblasExtras;
    private final int rowMajor;
    private final int noTrans;
    private final int trans;
    /** The thread count last set through {@link #setThreads}; 0 = never set (OpenBLAS's default). */
    private volatile int threadsInForce;

    private Blas(BlasLibrary.Loaded lib) {
        this.path = lib.path();
        this.bundled = lib.bundled();
        this.hasOpenblasExtras = lib.symbols().find("openblas_set_num_threads").isPresent()
                && lib.symbols().find("openblas_get_num_threads").isPresent()
                && lib.symbols().find("openblas_get_config").isPresent();
        this.rowMajor = cblas_h.CblasRowMajor();
        this.noTrans = cblas_h.CblasNoTrans();
        this.trans = cblas_h.CblasTrans();
    }

    /**
     * The BLAS library of this JVM, loaded on first call.
     *
     * @throws NativeLibraryException if it cannot be found, extracted or loaded, or is not a CBLAS library
     */
    public static synchronized Blas get() {
        if (instance == null) {
            instance = new Blas(BlasLibrary.load());
        }
        return instance;
    }

    /**
     * Linear layer {@code y[rows, out] = x[rows, in] · Wᵀ}, {@code W} row-major {@code [out, in]}, all
     * float32 and contiguous: {@code cblas_sgemv} for one row, {@code cblas_sgemm} for several.
     *
     * @throws IllegalArgumentException if a size is not positive, exceeds the 32-bit BLAS interface, or a
     *                                  segment is too small for it (checked before the native call)
     */
    public void linear(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        int r = blasInt("rows", rows);
        int k = blasInt("in", in);
        int n = blasInt("out", out);
        requireFloats("weight", w, (long) n * k);
        requireFloats("x", x, (long) r * k);
        requireFloats("y", y, (long) r * n);
        if (r == 1) {
            cblas_h.cblas_sgemv(rowMajor, noTrans, n, k, 1.0f, w, k, x, 1, 0.0f, y, 1);
        } else {
            cblas_h.cblas_sgemm(rowMajor, noTrans, trans, r, n, k, 1.0f, x, k, w, k, 0.0f, y, n);
        }
    }

    /**
     * Linear layer on a transposed weight, {@code y[rows, out] = x[rows, in] · W} with {@code wt} row-major
     * {@code Wᵀ [in, out]}: {@code cblas_sgemv} with {@code CblasTrans} for one row (it walks Wᵀ's rows,
     * scaling each by one x element), {@code cblas_sgemm} with no transposes for several.
     *
     * @throws IllegalArgumentException as {@link #linear}
     */
    public void linearTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        int r = blasInt("rows", rows);
        int k = blasInt("in", in);
        int n = blasInt("out", out);
        requireFloats("weight", wt, (long) n * k);
        requireFloats("x", x, (long) r * k);
        requireFloats("y", y, (long) r * n);
        if (r == 1) {
            cblas_h.cblas_sgemv(rowMajor, trans, k, n, 1.0f, wt, n, x, 1, 0.0f, y, 1);
        } else {
            cblas_h.cblas_sgemm(rowMajor, noTrans, noTrans, r, n, k, 1.0f, x, k, wt, n, 0.0f, y, n);
        }
    }

    /**
     * A linear layer restricted to the outputs {@code [from, to)}: {@code y[r, o] = W[o] · x[r]} for those
     * {@code o} only, with {@code W} as {@link #linear} ({@code [out, in]} rows) or, when {@code transposed},
     * as {@link #linearTransposed} ({@code Wᵀ [in, out]}: a column block of it, leading dimension {@code out}).
     * One single-threaded call on that block ({@code cblas_sgemv} for one row, {@code cblas_sgemm} for
     * several), so threads can share a matrix by output ranges. The pointers into W and y come from
     * {@code views}, the calling thread's own: after the first call with the same operands nothing is allocated.
     *
     * @throws IllegalArgumentException as {@link #linear}, or if {@code [from, to)} is not a non-empty part of
     *                                  {@code [0, out)}
     */
    public void linearOutputs(boolean transposed, MemorySegment w, MemorySegment x, MemorySegment y, long rows,
                              long in, long out, long from, long to, SubViews views) {
        int r = blasInt("rows", rows);
        int k = blasInt("in", in);
        int n = blasInt("out", out);
        if (from < 0 || to > out || from >= to) {
            throw new IllegalArgumentException("outputs [" + from + ", " + to + ") are not a part of [0, " + out + ")");
        }
        requireFloats("weight", w, (long) n * k);
        requireFloats("x", x, (long) r * k);
        requireFloats("y", y, (long) r * n);
        int m = (int) (to - from);
        MemorySegment yPart = views.at(y, from * Float.BYTES);
        MemorySegment wPart = views.at(w, (transposed ? from : from * k) * Float.BYTES);
        if (r == 1) {
            if (transposed) cblas_h.cblas_sgemv(rowMajor, trans, k, m, 1.0f, wPart, n, x, 1, 0.0f, yPart, 1);
            else cblas_h.cblas_sgemv(rowMajor, noTrans, m, k, 1.0f, wPart, k, x, 1, 0.0f, yPart, 1);
        } else if (transposed) {
            cblas_h.cblas_sgemm(rowMajor, noTrans, noTrans, r, m, k, 1.0f, x, k, wPart, n, 0.0f, yPart, n);
        } else {
            cblas_h.cblas_sgemm(rowMajor, noTrans, trans, r, m, k, 1.0f, x, k, wPart, k, 0.0f, yPart, n);
        }
    }

    /**
     * One row's linear layer over the inputs {@code [from, to)} only, on a transposed weight ({@code wt} =
     * {@code Wᵀ [in, out]}, as {@link #linearTransposed}): {@code y[o] = Σ_{i in [from, to)} Wᵀ[i, o] · x[i]}
     * for every output {@code o}. The rows {@code [from, to)} of {@code Wᵀ} are one contiguous block, so
     * threads that share a matrix this way each stream memory of their own; the caller adds their partial
     * {@code y}s. One {@code cblas_sgemv}; pointers into {@code wt} and {@code x} from {@code views}, as
     * {@link #linearOutputs}.
     *
     * @throws IllegalArgumentException as {@link #linear}, or if {@code [from, to)} is not a non-empty part of
     *                                  {@code [0, in)}
     */
    public void linearInputsTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long in, long out,
                                       long from, long to, SubViews views) {
        int k = blasInt("in", in);
        int n = blasInt("out", out);
        if (from < 0 || to > in || from >= to) {
            throw new IllegalArgumentException("inputs [" + from + ", " + to + ") are not a part of [0, " + in + ")");
        }
        requireFloats("weight", wt, (long) n * k);
        requireFloats("x", x, k);
        requireFloats("y", y, n);
        cblas_h.cblas_sgemv(rowMajor, trans, (int) (to - from), n, 1.0f, views.at(wt, from * n * Float.BYTES), n,
                views.at(x, from * Float.BYTES), 1, 0.0f, y, 1);
    }

    /** Sets the number of BLAS threads (OpenBLAS only; a no-op on other libraries). */
    public void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("BLAS thread count must be >= 1, got " + threads);
        if (hasOpenblasExtras) cblas_h.openblas_set_num_threads(threads);
        threadsInForce = threads;
    }

    /**
     * Sets the number of BLAS threads unless this is already the last value set through this class: a
     * field comparison in the common case, so it can precede every linear layer. (OpenBLAS's setting
     * is process-wide; a session applies its own before its calls.)
     */
    public void useThreads(int threads) {
        if (threads != threadsInForce) setThreads(threads);
    }

    /** The number of BLAS threads, if the library can tell (OpenBLAS can). */
    public OptionalInt threads() {
        return hasOpenblasExtras ? OptionalInt.of(cblas_h.openblas_get_num_threads()) : OptionalInt.empty();
    }

    /** OpenBLAS's build description ({@code openblas_get_config()}), or {@code "unknown"} for other libraries. */
    public String config() {
        return hasOpenblasExtras ? cblas_h.openblas_get_config().getString(0) : "unknown";
    }

    /**
     * The kernel family forced by an {@code OPENBLAS_CORETYPE} environment variable (OpenBLAS reads it when
     * the library loads, overriding its own pick for the CPU), if one is set.
     */
    public static java.util.Optional<String> coretypeOverride() {
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        return coretype == null || coretype.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(coretype.strip());
    }

    /** The library file in use. */
    public Path libraryPath() {
        return path;
    }

    /** Whether this is the OpenBLAS bundled with ffm-llama (rather than one named by ffmllama.blas). */
    public boolean isBundled() {
        return bundled;
    }

    private static int blasInt(String name, long value) {
        if (value < 1 || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " = " + value + " is outside 1.." + Integer.MAX_VALUE
                    + " (the 32-bit CBLAS interface)");
        }
        return (int) value;
    }

    private static void requireFloats(String name, MemorySegment s, long count) {
        if (s == null || s.byteSize() / ValueLayout.JAVA_FLOAT.byteSize() < count) {
            throw new IllegalArgumentException(name + " holds " + (s == null ? "nothing (null)" : s.byteSize() + " bytes")
                    + " but needs " + count + " floats");
        }
        if (!s.isNative()) {
            throw new IllegalArgumentException(name + " is a heap segment; BLAS needs off-heap (native) memory");
        }
    }
}
