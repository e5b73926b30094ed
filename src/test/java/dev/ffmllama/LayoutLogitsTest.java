package dev.ffmllama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.format.Npy;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tensor.WeightType;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every F32 memory layout computes the same forward pass as the default layout: logits equal bit for bit where
 * the layout changes no summation order, else within float32 reordering noise ({@link #TOLERANCE}) at every
 * position, for each option alone and in combinations, on every backend, in batched prefill (the fused
 * outputs split into rows) and token by token (the fused outputs used as views), on stories260K (multi-head)
 * and tiny32 converted to F32 (grouped-query attention, separate classifier). An F16 KV cache rounds keys and
 * values, so it is only close; quantized weights can be fused but not transposed.
 */
class LayoutLogitsTest {
    /**
     * Layouts that reorder float32 sums (BLAS blocks one fused [q+k+v, dim] GEMM differently from three; the
     * transposed kernels sum by axpy instead of by dot products) move logits of magnitude ~1-10 by a few ulps
     * after the decoder's layers: up to 1.6e-5 measured on stories260K, so 1e-5 plus that float32 noise.
     */
    static final float TOLERANCE = 2e-5f;

    static final String[] F32_LAYOUTS = {
        "qkv=fused", "ffn=fused", "matrix=rows", "matrix=transposed", "kv=head-major", "align=64", "hugepages=on",
        "qkv=fused,ffn=fused", "qkv=fused,matrix=transposed", "ffn=fused,matrix=transposed,kv=head-major",
        "qkv=fused,ffn=fused,matrix=transposed,kv=head-major,align=64,hugepages=on",
    };

    /** The test models: llama2.c stories260K, and tiny32 (GQA) with its F16 weights converted to F32. */
    enum TestModel {
        STORIES260K, TINY32_GQA;

        Model load(Layout layout) {
            LoadOptions options = LoadOptions.defaults().withLayout(layout.weightPart());
            return switch (this) {
                case STORIES260K -> Model.load(SharedData.model("stories260K.bin"),
                        options.withTokenizer(SharedData.model("tok512.bin")));
                case TINY32_GQA -> Model.load(SharedData.golden("quant/tiny32-f16.gguf"), options.withWeights(WeightType.F32));
            };
        }

        int[] tokens() {
            return Npy.readIds(SharedData.golden("quant/tiny32__tokens.npy")); // ids < 512 fit both vocabularies
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(TestModel.values()).flatMap(m -> Stream.of(Backend.values()).flatMap(b -> Stream.of(64, 1)
                .flatMap(batch -> Stream.of(F32_LAYOUTS).map(l -> Arguments.of(m, b, batch, l)))));
    }

    private static final Map<String, float[]> DEFAULT_LOGITS = new HashMap<>();

    @ParameterizedTest(name = "{0} {1} batch {2} {3}")
    @MethodSource("cases")
    void f32LayoutsGiveTheDefaultLogits(TestModel model, Backend backend, int batch, String spec) {
        float[] expected = DEFAULT_LOGITS.computeIfAbsent(model + " " + backend + " " + batch,
                key -> logits(model, backend, batch, Layout.defaults()));
        float[] got = logits(model, backend, batch, Layout.parse(spec));
        assertEquals(expected.length, got.length);
        float worst = maxAbsDifference(expected, got);
        if (sameSummationOrder(backend, Layout.parse(spec))) {
            assertEquals(0f, worst, spec + " changes no sum, so its logits must be bit-identical");
        } else {
            assertTrue(worst <= TOLERANCE, spec + ": max abs difference to the default layout " + worst);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("modelsAndBackends")
    void anF16CacheStaysCloseToTheF32One(TestModel model, Backend backend) {
        float[] f32 = logits(model, backend, 64, Layout.defaults());
        for (String spec : new String[] {"kv-type=f16", "kv=head-major,kv-type=f16"}) {
            float[] f16 = logits(model, backend, 64, Layout.parse(spec));
            float worst = maxAbsDifference(f32, f16);
            // keys and values rounded to 11 significant bits: differences of about 1e-3 of the logits' scale
            assertTrue(worst > 0 && worst < 2e-2, spec + ": max abs difference " + worst);
        }
    }

    static Stream<Arguments> modelsAndBackends() {
        return Stream.of(TestModel.values()).flatMap(m -> Stream.of(Backend.values()).map(b -> Arguments.of(m, b)));
    }

    /** matrix=auto is exactly matrix=transposed for native sessions and matrix=rows for the Java backends. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void autoMatrixOrderIsEachBackendsFixedOrder(Backend backend) {
        String same = backend == Backend.NATIVE ? "matrix=transposed" : "matrix=rows";
        for (TestModel model : TestModel.values()) {
            for (int batch : new int[] {64, 1}) {
                float[] auto = logits(model, backend, batch, Layout.defaults());
                float[] fixed = logits(model, backend, batch, Layout.parse(same));
                // the vector backend's lane reductions differ between the interpreter and C2 (see below)
                float tolerance = backend == Backend.VECTOR ? TOLERANCE : 0f;
                assertTrue(maxAbsDifference(auto, fixed) <= tolerance, model + " batch " + batch + ": auto vs " + same);
            }
        }
    }

    static Stream<Backend> backends() {
        return Stream.of(Backend.values());
    }

    @Test
    void quantizedWeightsFuseButDoNotTranspose() {
        int[] tokens = TestModel.TINY32_GQA.tokens();
        float[] expected;
        try (Model model = Model.load(SharedData.golden("quant/tiny32-q8_0.gguf"))) {
            expected = logits(model, Backend.NATIVE, 64, Layout.defaults(), tokens);
        }
        Layout fused = Layout.parse("qkv=fused,ffn=fused");
        try (Model model = Model.load(SharedData.golden("quant/tiny32-q8_0.gguf"), LoadOptions.defaults().withLayout(fused))) {
            for (Backend b : Backend.values()) {
                float worst = maxAbsDifference(expected, logits(model, b, 64, Layout.defaults(), tokens));
                assertTrue(worst <= 5e-5f, b + " fused Q8_0: max abs difference " + worst);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Model.load(
                SharedData.golden("quant/tiny32-q8_0.gguf"), LoadOptions.defaults().withLayout(Layout.parse("matrix=transposed"))));
        assertTrue(e.getMessage().contains("matrix=transposed needs F32") && e.getMessage().contains("Q8_0"), e.getMessage());
    }

    @Test
    void fusingShrinksNothingAndTransposingCopiesNothingExtraPerToken() {
        long base, fused, transposed;
        try (Model m = TestModel.STORIES260K.load(Layout.defaults())) {
            base = m.weightBytesPerToken();
        }
        try (Model m = TestModel.STORIES260K.load(Layout.parse("qkv=fused,ffn=fused"))) {
            fused = m.weightBytesPerToken();
        }
        try (Model m = TestModel.STORIES260K.load(Layout.parse("matrix=transposed"))) {
            transposed = m.weightBytesPerToken();
        }
        // the same weights are read per token whatever their layout
        assertEquals(base, fused);
        assertEquals(base, transposed);
    }

    private static float[] logits(TestModel m, Backend backend, int batch, Layout layout) {
        try (Model model = m.load(layout)) {
            return logits(model, backend, batch, layout.cachePart(), m.tokens());
        }
    }

    private static float[] logits(Model model, Backend backend, int batch, Layout cacheLayout, int[] tokens) {
        SessionOptions options = SessionOptions.defaults().withBackend(backend).withPrefillBatch(batch)
                .withLayout(cacheLayout.cachePart());
        try (Session session = model.newSession(options); Tensor logits = session.logits(tokens)) {
            return logits.toFloatArray();
        }
    }

    /**
     * Whether every float32 sum of the forward pass is added up in the same order as with the default layout
     * ({@code matrix=auto}: transposed F32 matrices on native, rows on java and vector), so
     * the logits must be equal bit for bit: the KV-cache order, alignment and huge pages only move data; on the
     * scalar Java backend each output of a matmul is one dot product of a weight row whatever matrix holds that
     * row, so fusing changes nothing either. (OpenBLAS may block a fused GEMM differently; transposing changes
     * the order everywhere; the vector backend's lane reductions differ between the interpreter and C2, so two
     * of its runs are only equal to float32 rounding whatever the layout.)
     */
    private static boolean sameSummationOrder(Backend backend, Layout layout) {
        if (backend == Backend.VECTOR || layout.matrix() != Layout.MatrixOrder.AUTO) return false;
        boolean fused = layout.qkv() == Layout.Fusion.FUSED || layout.ffn() == Layout.Fusion.FUSED;
        return !fused || backend == Backend.JAVA;
    }

    private static float maxAbsDifference(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            float d = Math.abs(a[i] - b[i]);
            if (!(d <= worst)) worst = d; // NaN propagates as a failure
        }
        return worst;
    }
}
