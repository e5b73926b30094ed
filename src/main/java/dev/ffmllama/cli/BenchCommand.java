package dev.ffmllama.cli;

import dev.ffmllama.GenerationLimits;
import dev.ffmllama.GenerationResult;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.TokenListener;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.tensor.WeightType;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench}: llama-bench-style throughput table. For every backend × thread count it measures
 * <ul>
 *   <li><b>pp</b>P: one batched prefill of P random (fixed-seed) token ids;</li>
 *   <li><b>tg</b>N: N single-token forward passes after BOS, each followed by a greedy argmax (EOS
 *       ignored), i.e. decoding;</li>
 * </ul>
 * each preceded by uncounted warm-up runs (so the JIT has compiled the forward pass), repeated
 * {@code --repeat} times in one session, reported as mean ± sample standard deviation, with the
 * Java heap bytes allocated per token by all threads during tg. With {@code --layouts} it compares memory
 * layouts instead ({@link LayoutBench}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill (pp) and decode (tg) speed per backend and thread count, like llama-bench.")
final class BenchCommand implements Callable<Integer> {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** Uncounted warm-up runs per configuration: at least this many, and at least {@code --warmup} seconds. */
    private static final int MIN_WARMUP_RUNS = 2;
    /** Name prefix of the worker threads {@code Backend.kernels(int)} starts. */
    private static final String WORKER_THREAD_PREFIX = "ffm-llama-";

    @Option(names = "--model", paramLabel = "PATH",
            description = "GGUF or llama2.c .bin model (default: the bundled stories260K)")
    Path modelPath;

    @Option(names = "-p", paramLabel = "P", defaultValue = "128", description = "prompt tokens of the pp test; 0 skips it (default ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "-n", paramLabel = "N", defaultValue = "128", description = "generated tokens of the tg test; 0 skips it (default ${DEFAULT-VALUE})")
    int generatedTokens;

    @Option(names = "--threads", paramLabel = "N,...", split = ",", defaultValue = "1",
            description = "thread counts to measure (default ${DEFAULT-VALUE})")
    List<Integer> threadCounts;

    @Option(names = "--backend", paramLabel = "NAME,...", split = ",", defaultValue = "native,vector",
            description = "backends to measure: native, vector, java (default ${DEFAULT-VALUE})")
    List<String> backendNames;

    @Option(names = "--repeat", paramLabel = "R", defaultValue = "5", description = "measured runs per test (default ${DEFAULT-VALUE})")
    int repeat;

    /**
     * Seconds of uncounted runs before each measurement (at least {@value #MIN_WARMUP_RUNS} runs): C2 needs a
     * few seconds before the vector kernels stop boxing vectors, on the session's worker threads too.
     */
    @Option(names = "--warmup", paramLabel = "S", defaultValue = "3",
            description = "seconds of uncounted warm-up runs per test, at least 2 runs (default ${DEFAULT-VALUE})")
    double warmupSeconds;

    @Option(names = "--json", description = "print the results as JSON instead of a table")
    boolean json;

    @Option(names = "--no-progress", description = "no progress bar on stderr")
    boolean noProgress;

    @Option(names = "--layouts", paramLabel = "SPEC;...", split = ";",
            description = "compare memory layouts with the default one: 'all' (each option alone, and both fusions), "
                    + "or layout specs separated by ';' (e.g. 'qkv=fused;kv=head-major,kv-type=f16'); see docs/layouts.md")
    List<String> layoutSpecs;

    @Option(names = "--chart", paramLabel = "PNG", description = "with --layouts: also write a bar chart of the speed ratios")
    Path chartPath;

    @Option(names = "--weights", paramLabel = "TYPE",
            description = "with --layouts: convert the weights at load time (f32, f16, bf16, q8_0, q4_0)")
    String weights;

    /** One line of the table. */
    record Result(String model, long params, long sizeBytes, String backend, int threads, String test, int tokens,
                  double meanTokensPerSecond, double stdTokensPerSecond, double bytesPerToken, int runs) {

        /** This configuration with the statistics of {@code r}. */
        Result measured(Runs r) {
            double[] v = r.tokensPerSecond();
            double mean = 0;
            for (double x : v) mean += x;
            mean /= v.length;
            double squares = 0;
            for (double x : v) squares += (x - mean) * (x - mean);
            double std = v.length > 1 ? Math.sqrt(squares / (v.length - 1)) : 0;
            return new Result(model, params, sizeBytes, backend, threads, test, tokens, mean, std, r.bytesPerToken(),
                    v.length);
        }
    }

    @Override
    public Integer call() {
        if (promptTokens < 0) throw new UserException("-p must be >= 0, got " + promptTokens);
        if (generatedTokens < 0) throw new UserException("-n must be >= 0, got " + generatedTokens);
        if (promptTokens == 0 && generatedTokens == 0) throw new UserException("-p and -n are both 0: nothing to measure");
        if (repeat < 1) throw new UserException("--repeat must be >= 1, got " + repeat);
        if (!(warmupSeconds >= 0) || warmupSeconds > 3600) {
            throw new UserException("--warmup must be between 0 and 3600 seconds, got " + warmupSeconds);
        }
        for (int t : threadCounts) if (t < 1) throw new UserException("--threads must be >= 1, got " + t);
        List<Backend> backends = new ArrayList<>();
        for (String name : backendNames) {
            try {
                backends.add(Backend.parse(name));
            } catch (IllegalArgumentException e) {
                throw new UserException(e.getMessage());
            }
        }
        if (modelPath != null) ModelOptions.requireFile(modelPath, "model");
        if (layoutSpecs != null) return benchLayouts(backends);
        if (chartPath != null || weights != null) throw new UserException("--chart and --weights need --layouts");

        try (Model model = modelPath == null ? Model.loadBundled() : Model.load(modelPath)) {
            ModelConfig c = model.config();
            int positions = Math.max(promptTokens, generatedTokens + 1);
            if (positions > c.contextLength()) {
                throw new UserException("-p/-n need " + positions + " positions but the model's context is "
                        + c.contextLength());
            }
            String modelName = model.path().getFileName().toString();
            long size = fileSize(model.path());
            long params = parameterCount(c);
            int[] prompt = randomTokens(promptTokens, c.vocabSize(), model.tokenizer().bosId());

            Progress progress = new Progress(noProgress ? null : System.err,
                    backends.size() * threadCounts.size() * ((promptTokens > 0 ? 1 : 0) + (generatedTokens > 0 ? 1 : 0)));
            List<Result> results = new ArrayList<>();
            for (Backend backend : backends) {
                for (int threads : threadCounts) {
                    SessionOptions options = SessionOptions.defaults().withBackend(backend).withThreads(threads)
                            .greedy().withSeed(1).withContextLength(positions)
                            .withPrefillBatch(Math.max(1, promptTokens));
                    try (Session session = model.newSession(options)) {
                        if (promptTokens > 0) {
                            progress.step(backend.cliName() + " t" + threads + " pp" + promptTokens);
                            results.add(new Result(modelName, params, size, backend.cliName(), threads,
                                    "pp" + promptTokens, promptTokens, 0, 0, Double.NaN, 0)
                                    .measured(runs(session, prompt, 1, true)));
                        }
                        if (generatedTokens > 0) {
                            progress.step(backend.cliName() + " t" + threads + " tg" + generatedTokens);
                            int[] bos = {model.tokenizer().bosId()};
                            results.add(new Result(modelName, params, size, backend.cliName(), threads,
                                    "tg" + generatedTokens, generatedTokens, 0, 0, Double.NaN, 0)
                                    .measured(runs(session, bos, generatedTokens, false)));
                        }
                    }
                }
            }
            progress.done();
            PrintStream out = System.out;
            out.print(json ? BenchReport.json(results) : BenchReport.table(results));
            if (!json) out.println(buildLine(backends));
            out.flush();
        }
        return 0;
    }

    /**
     * What ran, under the table as llama-bench prints its build: the JDK, and for the native backend the
     * SIMD variant of our kernels and OpenBLAS's own description of itself, which names the kernel family
     * it picked for this CPU ({@code Haswell}, {@code Cooperlake}, ...; an {@code OPENBLAS_CORETYPE} in the
     * environment overrides that pick, and is then shown too).
     */
    static String buildLine(List<Backend> backends) {
        StringBuilder line = new StringBuilder("build: JDK ").append(Runtime.version());
        if (backends.contains(Backend.NATIVE)) {
            line.append("; native kernels ").append(dev.ffmllama.nativelib.NativeLibrary.load().kernelVariant())
                    .append("; BLAS ").append(dev.ffmllama.blas.Blas.get().config().strip());
            dev.ffmllama.blas.Blas.coretypeOverride().ifPresent(c -> line.append(" (OPENBLAS_CORETYPE=").append(c).append(")"));
        }
        if (backends.contains(Backend.VECTOR)) {
            line.append("; vector lanes ").append(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize())
                    .append(" bits");
        }
        return line.toString();
    }

    private int benchLayouts(List<Backend> backends) {
        List<dev.ffmllama.layout.Layout> layouts = LayoutBench.layouts(layoutSpecs);
        WeightType type = weights == null ? null : ModelOptions.parseWeightType(weights);
        List<LayoutBench.Row> rows = new LayoutBench(this).run(modelPath, type, layouts, backends, threadCounts,
                promptTokens, generatedTokens, repeat);
        String model = modelPath == null ? "stories260K (bundled)" : modelPath.getFileName().toString();
        System.out.print(LayoutBench.table(rows));
        System.out.flush();
        if (chartPath != null) LayoutBench.chart(rows, "Memory layouts on " + model, chartPath);
        return 0;
    }

    /** Speeds (tokens/s) and heap bytes per token of the measured runs, after the warm-up ones. */
    record Runs(double[] tokensPerSecond, double bytesPerToken) {
    }

    Runs runs(Session session, int[] prompt, int newTokens, boolean prefill) {
        GenerationLimits limits = new GenerationLimits(newTokens, false);
        TokenListener ignore = (token, position) -> true;
        warmUp(session, prompt, newTokens);
        long[] workers = sessionWorkerThreadIds();
        double[] speeds = new double[repeat];
        long allocated = 0;
        long tokens = 0;
        for (int r = 0; r < repeat; r++) {
            long all0 = THREADS.getTotalThreadAllocatedBytes();
            long workers0 = sum(THREADS.getThreadAllocatedBytes(workers));
            GenerationResult g = session.generate(prompt, limits, ignore);
            long workers1 = sum(THREADS.getThreadAllocatedBytes(workers));
            long all1 = THREADS.getTotalThreadAllocatedBytes();
            if (prefill) {
                // the prompt's one batched forward pass (the single sampled token is not fed back);
                // bytes: the whole call on all threads, including the GenerationResult it returns
                speeds[r] = prompt.length / (g.promptNanos() * 1e-9);
                tokens += prompt.length;
                allocated += all1 - all0;
            } else {
                // BOS's forward pass plus newTokens - 1 fed back: newTokens single-token passes in all;
                // bytes: the steady-state decode loop of the calling thread plus the session's workers
                speeds[r] = g.generatedTokens() / ((g.promptNanos() + g.generationNanos()) * 1e-9);
                tokens += g.generatedTokens();
                allocated += g.allocatedBytes() + (workers1 - workers0);
            }
        }
        return new Runs(speeds, (double) allocated / tokens);
    }

    /** A progress bar over {@code total} steps (silent with --no-progress). */
    Progress progress(int total) {
        return new Progress(noProgress ? null : System.err, total);
    }

    /** Tokens/s of one run: the prompt's batched prefill ({@code prefill}) or a decode of {@code newTokens} tokens. */
    static double speedOnce(Session session, int[] prompt, int newTokens, boolean prefill) {
        GenerationResult g = session.generate(prompt, new GenerationLimits(newTokens, false), (token, position) -> true);
        return prefill ? prompt.length / (g.promptNanos() * 1e-9)
                : g.generatedTokens() / ((g.promptNanos() + g.generationNanos()) * 1e-9);
    }

    /** The uncounted runs before a measurement: until the JIT has compiled the forward pass. */
    void warmUp(Session session, int[] prompt, int newTokens) {
        GenerationLimits limits = new GenerationLimits(newTokens, false);
        TokenListener ignore = (token, position) -> true;
        long warmStart = System.nanoTime();
        // bounded by time, not by a count of runs: a short run (-n 16 on stories260K: ~1 ms) needs
        // thousands of repetitions before C2 has compiled every path, on the workers too (capped at 50
        // runs, vector 2-thread pp16 still allocated 155 KB per token in interpreted Vector API code)
        long warmNanos = (long) (warmupSeconds * 1e9);
        for (int w = 0; w < MIN_WARMUP_RUNS || System.nanoTime() - warmStart < warmNanos; w++) {
            session.generate(prompt, limits, ignore);
        }
    }

    /** Ids of the live worker threads of ffm-llama sessions (the bench runs one session at a time). */
    private static long[] sessionWorkerThreadIds() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(WORKER_THREAD_PREFIX))
                .mapToLong(Thread::threadId).toArray();
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) s += Math.max(0, v);
        return s;
    }

    static int[] randomTokens(int count, int vocab, int bos) {
        SplittableRandom random = new SplittableRandom(1234);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = i == 0 ? bos : random.nextInt(vocab);
        return ids;
    }

    /** Weights of a LLaMA decoder with this configuration (norm weights included). */
    static long parameterCount(ModelConfig c) {
        long dim = c.dim(), kv = c.kvDim(), hidden = c.hiddenDim();
        long perLayer = 2 * dim * dim + 2 * dim * kv + 3 * dim * hidden + 2 * dim;
        long embedding = (long) c.vocabSize() * dim;
        return embedding + c.nLayers() * perLayer + dim + (c.sharedClassifier() ? 0 : embedding);
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A one-line progress bar on stderr, redrawn in place (nothing when disabled). */
    static final class Progress {
        private final PrintStream err;
        private final int total;
        private int done;

        Progress(PrintStream err, int total) {
            this.err = err;
            this.total = total;
        }

        void step(String what) {
            if (err == null) return;
            int width = 30;
            int filled = total == 0 ? width : done * width / total;
            err.printf(Locale.ROOT, "\r[%s%s] %d/%d %-28s", "#".repeat(filled), ".".repeat(width - filled), done + 1,
                    total, what);
            err.flush();
            done++;
        }

        void done() {
            if (err == null) return;
            err.print("\r" + " ".repeat(75) + "\r");
            err.flush();
        }
    }
}
