package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.kernels.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Steady-state decoding allocates nothing on the Java heap: after a warm-up generation (so the JIT
 * has compiled the loop and escape analysis has removed temporary objects), the bytes this thread
 * allocates while sampling 200+ tokens, as counted by ThreadMXBean, are 0.
 */
class ZeroAllocationTest {
    @ParameterizedTest
    @EnumSource(Backend.class)
    void decodingAllocatesNothing(Backend backend) {
        try (Model model = Model.load(SharedData.model("stories260K.bin"), SharedData.model("tok512.bin"))) {
            assertNoAllocation(model, backend);
        }
    }

    /** Quantized weights (Q8_0 matrices and a Q8_0 embedding looked up row by row). */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void decodingQuantizedWeightsAllocatesNothing(Backend backend) {
        try (Model model = Model.load(SharedData.golden("quant/tiny32-q8_0.gguf"))) {
            assertNoAllocation(model, backend);
        }
    }

    private static void assertNoAllocation(Model model, Backend backend) {
        try (Session session = model.newSession(SessionOptions.defaults().withBackend(backend).withSeed(42))) {
            int[] prompt = {1};
            GenerationLimits limits = new GenerationLimits(400, false);
            TokenListener ignore = (token, pos) -> true;
            GenerationResult last = null;
            for (int round = 0; round < 12; round++) {
                last = session.generate(prompt, limits, ignore);
                if (last.allocatedBytes() == 0) break;
            }
            assertTrue(last.generatedTokens() >= 200, "generated only " + last.generatedTokens());
            assertEquals(0, last.allocatedBytes(), "heap bytes allocated over " + last.generatedTokens() + " tokens");
        }
    }
}
