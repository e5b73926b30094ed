package dev.ffmllama.bench;

import dev.ffmllama.kernels.Backend;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The fixed cost of one downcall: {@code ffm_noop()} through a regular handle and through a
 * {@link Linker.Option#critical critical} one (no thread-state transition).
 *
 * <p>The symbol comes from the jextract bindings ({@code dev.ffmllama.bindings.kernels.ffmllama_h}), looked
 * up reflectively so this source compiles on branches without them; there the benchmark fails at start with
 * a message saying so. The handles are static finals so C2 treats them as constants.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class DowncallBenchmark {
    private static final String BINDINGS = "dev.ffmllama.bindings.kernels.ffmllama_h";
    private static final MethodHandle REGULAR = noopHandle();
    private static final MethodHandle CRITICAL = noopHandle(Linker.Option.critical(false));

    private static MethodHandle noopHandle(Linker.Option... options) {
        try {
            Backend.NATIVE.kernels(); // loads the native library the bindings look symbols up in
            Class<?> bindings = Class.forName(BINDINGS);
            MemorySegment address = (MemorySegment) bindings.getMethod("ffm_noop$address").invoke(null);
            FunctionDescriptor descriptor = (FunctionDescriptor) bindings.getMethod("ffm_noop$descriptor").invoke(null);
            return Linker.nativeLinker().downcallHandle(address, descriptor, options);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("the downcall benchmark needs the native library and " + BINDINGS
                    + " (merged from the native branch): " + e, e);
        }
    }

    @Benchmark
    public void regular() throws Throwable {
        REGULAR.invokeExact();
    }

    @Benchmark
    public void critical() throws Throwable {
        CRITICAL.invokeExact();
    }
}
