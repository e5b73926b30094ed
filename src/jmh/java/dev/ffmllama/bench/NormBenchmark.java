package dev.ffmllama.bench;

import dev.ffmllama.kernels.Backend;
import dev.ffmllama.kernels.Kernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Every normalization on every backend, through the validating {@link Backend#kernels()} (the path the
 * model uses), for one row (decode) and 64 rows (prefill). Compare with {@link MemcpyBaseline} at the
 * same d and rows: a normalization streams x in and y out, so a copy of x is its bandwidth floor.
 * batchnorm_train needs rows >= 2, so its rows=1 setting fails by design.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class NormBenchmark {
    @Param({"rmsnorm", "rmsnorm_gemma", "layernorm", "add_rmsnorm", "add_layernorm", "deepnorm", "batchnorm_infer",
            "batchnorm_train"})
    public String op;

    @Param({"native", "vector", "java"})
    public String backend;

    @Param({"64", "288", "768", "4096", "16384"})
    public int d;

    @Param({"1", "64"})
    public int rows;

    private Arena arena;
    private Kernels kernels;
    private MemorySegment x;
    private MemorySegment residual;
    private MemorySegment rOut;
    private MemorySegment y;
    private MemorySegment w;
    private MemorySegment b;
    private MemorySegment runningMean;
    private MemorySegment runningVar;

    @Setup(Level.Trial)
    public void setUp() {
        if (op.equals("batchnorm_train") && rows < 2) {
            throw new IllegalArgumentException("batchnorm_train needs rows >= 2: run it with -p rows=64");
        }
        kernels = Backend.parse(backend).kernels();
        arena = Arena.ofShared();
        Random rnd = new Random(1);
        x = random(arena, (long) rows * d, 0, 1, rnd);
        residual = random(arena, (long) rows * d, 0, 1, rnd);
        rOut = arena.allocate((long) rows * d * Float.BYTES, 64);
        y = arena.allocate((long) rows * d * Float.BYTES, 64);
        w = random(arena, d, 1, 0.1, rnd);
        b = random(arena, d, 0, 0.1, rnd);
        runningMean = random(arena, d, 0, 0.1, rnd);
        runningVar = random(arena, d, 1, 0.1, rnd);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    static MemorySegment random(Arena arena, long n, double mean, double sd, Random rnd) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (mean + sd * rnd.nextGaussian()));
        return s;
    }

    @Benchmark
    public void norm() {
        switch (op) {
            case "rmsnorm" -> kernels.rmsnorm(x, w, y, rows, d, 1e-5f);
            case "rmsnorm_gemma" -> kernels.rmsnormGemma(x, w, y, rows, d, 1e-5f);
            case "layernorm" -> kernels.layernorm(x, w, b, y, rows, d, 1e-5f);
            case "add_rmsnorm" -> kernels.addRmsnorm(x, residual, w, rOut, y, rows, d, 1e-5f);
            case "add_layernorm" -> kernels.addLayernorm(x, residual, w, b, rOut, y, rows, d, 1e-5f);
            case "deepnorm" -> kernels.deepnorm(x, residual, 1.5f, w, b, y, rows, d, 1e-5f);
            case "batchnorm_infer" -> kernels.batchnormInfer(x, runningMean, runningVar, w, b, y, rows, d, 1e-5f);
            case "batchnorm_train" -> kernels.batchnormTrain(x, w, b, runningMean, runningVar, y, rows, d, 1e-5f,
                    0.1f);
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
    }
}
