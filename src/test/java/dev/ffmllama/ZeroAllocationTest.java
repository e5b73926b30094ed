package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.format.NormSpec;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.synth.SynthSpec;
import dev.ffmllama.synth.SyntheticModel;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;

/**
 * Steady-state decoding allocates nothing on the Java heap: after a warm-up generation (so the JIT
 * has compiled the loop and escape analysis has removed temporary objects; on a loaded machine C2 can
 * take many rounds, hence up to 40 of them, stopping at the first clean one), the bytes allocated
 * while sampling 200+ tokens, as counted by ThreadMXBean, are 0 — on the calling thread and, with
 * two threads, on the session's worker thread too.
 */
class ZeroAllocationTest {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    static Stream<Arguments> backendsAndThreads() {
        return Stream.of(Backend.values()).flatMap(b -> Stream.of(Arguments.of(b, 1), Arguments.of(b, 2)));
    }

    @ParameterizedTest(name = "{0} threads={1}")
    @MethodSource("backendsAndThreads")
    void decodingAllocatesNothing(Backend backend, int threads) {
        try (Model model = Model.load(SharedData.model("stories260K.bin"), SharedData.model("tok512.bin"))) {
            assertNoAllocation(model, backend, threads);
        }
    }

    /** Quantized weights (Q8_0 matrices and a Q8_0 embedding looked up row by row). */
    @ParameterizedTest(name = "{0} threads={1}")
    @MethodSource("backendsAndThreads")
    void decodingQuantizedWeightsAllocatesNothing(Backend backend, int threads) {
        try (Model model = Model.load(SharedData.golden("quant/tiny32-q8_0.gguf"))) {
            assertNoAllocation(model, backend, threads);
        }
    }

    /**
     * Matrices large enough that two threads split every one-row matmul (stories260K's stay on one
     * thread): on the native backend each share is one OpenBLAS call on a block of W or Wᵀ, which needs
     * a pointer into the middle of the matrix; those must not cost a segment per call. The default
     * layout and both explicit matrix orders.
     */
    @ParameterizedTest(name = "{0} matrix={1}")
    @MethodSource("backendsAndMatrixOrders")
    void decodingWithSplitMatmulsAllocatesNothing(Backend backend, String matrix, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("split.gguf");
        // dim 256: every 256x256 projection is 64 K multiply-adds, the split threshold
        SyntheticModel.write(new SynthSpec(256, 512, 2, 8, 4, 0, 512, NormSpec.PRE_RMSNORM, 3, 0.05, 0),
                SharedData.model("stories260K.gguf"), file);
        try (Model model = Model.load(file, LoadOptions.defaults().withLayout(Layout.parse("matrix=" + matrix)))) {
            assertNoAllocation(model, backend, 2);
        }
    }

    static Stream<Arguments> backendsAndMatrixOrders() {
        return Stream.of(Backend.values()).flatMap(b -> Stream.of("auto", "rows", "transposed").map(m -> Arguments.of(b, m)));
    }

    /** Every non-default layout at once: fused views, transposed kernels, head-major F16 cache, huge pages. */
    @ParameterizedTest(name = "{0} threads={1}")
    @MethodSource("backendsAndThreads")
    void decodingWithEveryLayoutAllocatesNothing(Backend backend, int threads) {
        Layout layout = Layout.parse("qkv=fused,ffn=fused,matrix=transposed,kv=head-major,kv-type=f16,align=64,hugepages=on");
        try (Model model = Model.load(SharedData.model("stories260K.bin"),
                LoadOptions.defaults().withTokenizer(SharedData.model("tok512.bin")).withLayout(layout.weightPart()))) {
            assertNoAllocation(model, backend, threads, layout.cachePart());
        }
    }

    private static void assertNoAllocation(Model model, Backend backend, int threads) {
        assertNoAllocation(model, backend, threads, Layout.defaults());
    }

    private static void assertNoAllocation(Model model, Backend backend, int threads, Layout cacheLayout) {
        try (Session session = model.newSession(SessionOptions.defaults().withBackend(backend).withThreads(threads)
                     .withSeed(42).withLayout(cacheLayout))) {
            int[] prompt = {1};
            GenerationLimits limits = new GenerationLimits(400, false);
            TokenListener ignore = (token, pos) -> true;
            long[] workers = workerThreadIds();
            assertEquals(threads - 1, workers.length, "session worker threads");
            GenerationResult last = null;
            long workerBytes = -1;
            for (int round = 0; round < 40; round++) {
                long w0 = sum(MX.getThreadAllocatedBytes(workers));
                last = session.generate(prompt, limits, ignore);
                workerBytes = sum(MX.getThreadAllocatedBytes(workers)) - w0;
                if (last.allocatedBytes() == 0 && workerBytes == 0) break;
            }
            assertTrue(last.generatedTokens() >= 200, "generated only " + last.generatedTokens());
            assertEquals(0, last.allocatedBytes(), "heap bytes allocated over " + last.generatedTokens() + " tokens");
            assertEquals(0, workerBytes, "heap bytes the worker threads allocated over a generation");
        }
    }

    /** The live worker threads of sessions (named ffm-llama-BACKEND-i); tests run one session at a time. */
    private static long[] workerThreadIds() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("ffm-llama-"))
                .mapToLong(Thread::threadId).toArray();
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) s += v;
        return s;
    }
}
