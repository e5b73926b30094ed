package dev.ffmllama.bench;

import dev.ffmllama.kernels.Backend;
import dev.ffmllama.kernels.Kernels;
import dev.ffmllama.kernels.Quantization;
import dev.ffmllama.tensor.WeightType;
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
 * All the linear layers of one decoded token (one x row) of a stories15M / stories110M-shaped llama (7 matrices
 * per block plus the 32000-row classifier), with weights of one {@link WeightType}, on one thread. The time per
 * operation is an upper bound on tok/s from the linear layers alone: tok/s = 1000 / (ms/op). F32 runs OpenBLAS
 * sgemv on the native backend. Each matrix has its own buffer, so stories110M streams from memory.
 *
 * <pre>scripts/bench-kernels TypedMatmulBenchmark -p model=stories110M -p type=Q8_0,F32 -p backend=native</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class TypedMatmulBenchmark {
    @Param({"stories15M", "stories110M"})
    public String model;

    @Param({"F32", "F16", "Q8_0", "Q4_0"})
    public String type;

    @Param({"native", "vector"})
    public String backend;

    private Arena arena;
    private Kernels kernels;
    private WeightType weightType;
    private MemorySegment[] weights;
    private long[] ins;
    private long[] outs;
    private MemorySegment x;
    private MemorySegment y;

    @Setup(Level.Trial)
    public void setUp() {
        boolean small = model.equals("stories15M");
        long dim = small ? 288 : 768;
        long hidden = small ? 768 : 2048;
        int layers = small ? 6 : 12;
        long vocab = 32000;
        weightType = WeightType.valueOf(type);
        kernels = Backend.parse(backend).kernels();
        arena = Arena.ofShared();
        int n = layers * 7 + 1;
        weights = new MemorySegment[n];
        ins = new long[n];
        outs = new long[n];
        long[] blockOuts = {dim, dim, dim, dim, hidden, hidden, dim};
        long[] blockIns = {dim, dim, dim, dim, dim, dim, hidden};
        Random rnd = new Random(1);
        for (int i = 0; i < n; i++) {
            boolean classifier = i == n - 1;
            outs[i] = classifier ? vocab : blockOuts[i % 7];
            ins[i] = classifier ? dim : blockIns[i % 7];
            long count = outs[i] * ins[i];
            MemorySegment f = arena.allocate(count * Float.BYTES, 64);
            for (long j = 0; j < count; j++) f.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) rnd.nextGaussian());
            weights[i] = arena.allocate(weightType.byteSize(outs[i], ins[i]), 64);
            Quantization.quantize(weightType, f, weights[i], count);
        }
        x = arena.allocate(hidden * Float.BYTES, 64);
        for (long j = 0; j < hidden; j++) x.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) rnd.nextGaussian());
        y = arena.allocate(vocab * Float.BYTES, 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void decodeToken() {
        for (int i = 0; i < weights.length; i++) {
            kernels.matmul(weightType, weights[i], x, y, 1, ins[i], outs[i]);
        }
    }
}
