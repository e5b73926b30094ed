package dev.ffmllama.kernels;

import java.util.Locale;
import java.util.function.Supplier;

/** The three implementations of {@link Kernels}: our C kernels + OpenBLAS, the Java Vector API, plain Java. */
public enum Backend {
    /** C kernels through FFM downcalls (jextract bindings), linear layers in OpenBLAS. */
    NATIVE(NativeKernels::new),
    /** Pure Java on the Vector API ({@code jdk.incubator.vector}). */
    VECTOR(VectorKernels::new),
    /** Plain scalar Java: the readable reference. */
    JAVA(JavaKernels::new);

    private final Supplier<Kernels> factory;
    private volatile Kernels kernels;

    Backend(Supplier<Kernels> factory) {
        this.factory = factory;
    }

    /**
     * The validating kernels of this backend (created on first use; for {@link #NATIVE} this loads the
     * native library and OpenBLAS, and fails loudly if they cannot be loaded).
     */
    public Kernels kernels() {
        Kernels k = kernels;
        if (k == null) {
            synchronized (this) {
                k = kernels;
                if (k == null) {
                    k = new CheckedKernels(factory.get());
                    kernels = k;
                }
            }
        }
        return k;
    }

    /** The lower-case name used on the command line. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code native}, {@code vector} or {@code java} (any case). */
    public static Backend parse(String name) {
        for (Backend b : values()) {
            if (b.name().equalsIgnoreCase(name.trim())) return b;
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (expected native, vector or java)");
    }
}
