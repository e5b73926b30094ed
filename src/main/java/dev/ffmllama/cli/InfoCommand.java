package dev.ffmllama.cli;

import dev.ffmllama.blas.Blas;
import dev.ffmllama.nativelib.NativeLibrary;
import dev.ffmllama.nativelib.Platform;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ffm-llama info}: what this JVM and machine give the native backend (JDK, platform, CPU
 * features, chosen SIMD variant, native and BLAS libraries). Loading either library is part of the
 * report, so a failure there is printed as the error it is (exit 1), not hidden.
 *
 * <p>Each section is its own method so further sections (e.g. a model summary for
 * {@code info --model}) can be added next to them.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the JDK, platform, CPU features, native kernel variant and BLAS library in use.")
public final class InfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        printRuntime(out);
        printNativeKernels(out);
        printBlas(out);
        out.flush();
        return 0;
    }

    private static void printRuntime(PrintWriter out) {
        out.printf("JDK:              %s (%s, %s)%n", Runtime.version(), System.getProperty("java.vendor"),
                System.getProperty("java.vm.name"));
        out.printf("Platform:         %s (os.name=%s, os.arch=%s, %d cores)%s%n", Platform.current(),
                System.getProperty("os.name"), System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(),
                Platform.isSupported() ? "" : " - native backend unsupported here (only " + Platform.SUPPORTED + ")");
    }

    private static void printNativeKernels(PrintWriter out) {
        NativeLibrary lib = NativeLibrary.load();
        out.printf("CPU features:     %s%n", lib.cpuFeatures());
        out.printf("Kernel variant:   %s%n", lib.kernelVariant());
        out.printf("Native library:   %s%n", lib.path());
    }

    private static void printBlas(PrintWriter out) {
        Blas blas = Blas.get();
        out.printf("BLAS library:     %s%s%n", blas.libraryPath(),
                blas.isBundled() ? " (bundled OpenBLAS)" : " (from ffmllama.blas / FFM_LLAMA_BLAS)");
        out.printf("BLAS config:      %s%n", blas.config().strip());
        out.printf("BLAS threads:     %s%n", blas.threads().isPresent()
                ? Integer.toString(blas.threads().getAsInt()) : "unknown");
    }
}
