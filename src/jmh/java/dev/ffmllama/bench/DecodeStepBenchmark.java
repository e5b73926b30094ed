package dev.ffmllama.bench;

import dev.ffmllama.engine.Inference;
import dev.ffmllama.engine.Weights;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.kernels.SessionKernels;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step: a single-token forward pass (embedding to logits) at positions cycling through
 * the first {@value #POSITIONS}, on every backend and thread count. Run with {@code -prof gc}:
 * {@code gc.alloc.rate.norm} must be ≈ 0 B/op (the JMH harness itself accounts for a few bytes).
 *
 * <p>The model is a stories15M-shaped checkpoint: the file named by the system property
 * {@code ffmllama.bench.model} (passed through {@code -jvmArgsAppend -Dffmllama.bench.model=...}), else
 * {@code target/bench-models/stories15M.bin}, which {@code scripts/bench-report} creates with
 * {@code make_synthetic_llama2c.py}. The benchmark fails at setup, naming both, if neither exists.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2) // C2 needs several seconds for the vector kernels (they box before)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class DecodeStepBenchmark {
    static final String MODEL_PROPERTY = "ffmllama.bench.model";
    static final Path DEFAULT_MODEL = Path.of("target", "bench-models", "stories15M.bin");
    private static final int POSITIONS = 128;

    @Param({"native", "vector", "java"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    private ModelFile file;
    private Weights weights;
    private SessionKernels kernels;
    private Inference inference;
    private final int[] token = {1};
    private int position;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        String configured = System.getProperty(MODEL_PROPERTY);
        Path model = configured != null ? Path.of(configured) : DEFAULT_MODEL;
        if (!Files.isRegularFile(model)) {
            throw new IllegalStateException("decode benchmark model " + model.toAbsolutePath() + " does not exist: set -D"
                    + MODEL_PROPERTY + "=<stories15M-shaped .bin or .gguf>, or create " + DEFAULT_MODEL
                    + " with python3 ../shared/golden/tools/make_synthetic_llama2c.py stories15M " + DEFAULT_MODEL
                    + " (scripts/bench-report does)");
        }
        file = ModelFiles.open(model);
        kernels = Backend.parse(backend).kernels(threads);
        weights = new Weights(file);
        // the weights as a session of this backend reads them (native: F32 matrices transposed, matrix=auto)
        inference = new Inference(file.config(), weights.arrangedFor(Backend.parse(backend)), kernels.kernels(),
                POSITIONS, 1);
    }

    @Benchmark
    public MemorySegment decodeStep() {
        inference.feed(token, 0, 1, position, true);
        position = position + 1 == POSITIONS ? 0 : position + 1;
        return inference.logits();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        inference.close();
        kernels.close();
        weights.close();
        file.close();
    }
}
