package dev.ffmllama.cli;

import dev.ffmllama.Model;
import dev.ffmllama.blas.Blas;
import dev.ffmllama.format.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.ffmllama.nativelib.NativeLibrary;
import dev.ffmllama.nativelib.Platform;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
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
        description = {"Show the JDK, platform, CPU features, native kernel variant and BLAS library in use;",
                "with --model, first the model's configuration and sizes."})
public final class InfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH", description = "also describe this GGUF or llama2.c model")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "llama2.c tokenizer for a .bin model")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (model != null) {
            printModel(out);
            out.println();
        }
        printRuntime(out);
        printNativeKernels(out);
        printBlas(out);
        out.flush();
        return 0;
    }

    private void printModel(PrintWriter out) throws Exception {
        ModelOptions.requireFile(model, "model");
        if (tokenizer != null) ModelOptions.requireFile(tokenizer, "tokenizer");
        try (Model m = Model.load(model, tokenizer)) {
            ModelConfig c = m.config();
            long params = parameterCount(c);
            out.printf("Model:            %s (%s, %,d bytes)%n", m.path(), m.format(), Files.size(m.path()));
            out.printf("Shape:            dim %d, hidden %d, layers %d, heads %d, kv heads %d (head size %d%s)%n",
                    c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.headSize(),
                    c.nKvHeads() < c.nHeads() ? ", GQA " + c.nHeads() / c.nKvHeads() + ":1" : "");
            out.printf("Vocabulary:       %d tokens (BOS %d, EOS %d), classifier %s%n", c.vocabSize(),
                    m.tokenizer().bosId(), m.tokenizer().eosId(), c.sharedClassifier() ? "tied to the embedding" : "separate");
            out.printf("Context:          %d positions, RoPE theta %s, RMSNorm eps %s%n", c.contextLength(),
                    c.ropeTheta(), c.normEps());
            out.printf("Parameters:       %,d (%.1f MB as float32)%n", params, params * 4 / 1e6);
            long kvBytes = 2L * c.nLayers() * c.contextLength() * c.kvDim() * Float.BYTES;
            out.printf("KV cache:         %,d bytes per session at full context%n", kvBytes);
        }
    }

    /** Weights the decoder uses (the tied classifier counted once). */
    static long parameterCount(ModelConfig c) {
        long dim = c.dim(), kv = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
        long perLayer = 2 * dim + dim * dim * 2 + 2 * kv * dim + 3 * hidden * dim;
        return vocab * dim + c.nLayers() * perLayer + dim + (c.sharedClassifier() ? 0 : vocab * dim);
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
        out.printf("BLAS config:      %s%s%n", blas.config().strip(), Blas.coretypeOverride()
                .map(c -> " (kernels forced by OPENBLAS_CORETYPE=" + c + " in the environment)").orElse(""));
        out.printf("BLAS threads:     %s%n", blas.threads().isPresent()
                ? Integer.toString(blas.threads().getAsInt()) : "unknown");
    }
}
