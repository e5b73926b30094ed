package dev.ffmllama.kernels;

import static dev.ffmllama.kernels.TestData.assertClose;
import static dev.ffmllama.kernels.TestData.onBackend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.kernels.NormCase.Inputs;
import dev.ffmllama.kernels.NormCase.Placement;
import dev.ffmllama.kernels.TestData.RowKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every normalization on every backend against the float64 reference, adversarial rows and aliasing. */
class NormalizationContractTest {
    static final double RTOL = 1e-5;
    static final double ATOL = 1e-5;

    static Stream<Arguments> opBackendDimRows() {
        List<Arguments> args = new ArrayList<>();
        for (NormCase op : NormCase.values()) {
            for (Backend backend : Backend.values()) {
                for (int d : new int[] {1, 7, 64, 1000, 4096}) {
                    for (int rows : new int[] {1, 3, 17}) {
                        // batchnorm_train is undefined for one row (PyTorch raises); tested as an error elsewhere
                        if (op != NormCase.BATCHNORM_TRAIN || rows >= 2) args.add(Arguments.of(op, backend, d, rows));
                    }
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1} d={2} rows={3}")
    @MethodSource("opBackendDimRows")
    void matchesReference(NormCase op, Backend backend, int d, int rows) {
        Inputs in = Inputs.random(TestData.rows(RowKind.RANDOM, rows, d, d * 31L + rows), rows, d, d + rows, true);
        onBackend(backend, k -> assertMatchesReference(op, in, op.run(k, in, Placement.SEPARATE)));
    }

    static Stream<Arguments> opBackendKind() {
        List<Arguments> args = new ArrayList<>();
        for (NormCase op : NormCase.values()) {
            for (Backend backend : Backend.values()) {
                for (RowKind kind : RowKind.values()) args.add(Arguments.of(op, backend, kind));
            }
        }
        return args.stream();
    }

    /** Zero, constant, |x| ~ 1e20 and mixed-sign rows; d = 1000 is not a multiple of any vector length. */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("opBackendKind")
    void adversarialRows(NormCase op, Backend backend, RowKind kind) {
        int rows = 3;
        int d = 1000;
        Inputs in = Inputs.random(TestData.rows(kind, rows, d, 7), rows, d, 11, true);
        if (kind == RowKind.HUGE && op.hasSecondInput()) {
            in = new Inputs(rows, d, in.x(), TestData.rows(RowKind.HUGE, rows, d, 8), in.w(), in.b(),
                    in.runningMean(), in.runningVar());
        }
        Inputs inputs = in;
        onBackend(backend, k -> assertMatchesReference(op, inputs, op.run(k, inputs, Placement.SEPARATE)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void constantRowLayernormGivesBias(Backend backend) {
        int d = 37;
        Inputs in = Inputs.random(TestData.rows(RowKind.CONSTANT, 2, d, 1), 2, d, 5, true);
        onBackend(backend, k -> {
            float[] y = NormCase.LAYERNORM.run(k, in, Placement.SEPARATE).get("y");
            for (int i = 0; i < y.length; i++) assertEquals(in.b()[i % d], y[i], 0f, "y[" + i + "]");
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("opWithOptionalWeightBackend")
    void optionalWeightAndBiasMayBeNull(NormCase op, Backend backend) {
        Inputs in = Inputs.random(TestData.rows(RowKind.RANDOM, 5, 33, 3), 5, 33, 4, false);
        onBackend(backend, k -> assertMatchesReference(op, in, op.run(k, in, Placement.SEPARATE)));
    }

    static Stream<Arguments> opWithOptionalWeightBackend() {
        return opBackend().filter(a -> !((NormCase) a.get()[0]).needsWeight());
    }

    static Stream<Arguments> opBackend() {
        List<Arguments> args = new ArrayList<>();
        for (NormCase op : NormCase.values()) {
            for (Backend backend : Backend.values()) args.add(Arguments.of(op, backend));
        }
        return args.stream();
    }

    /** y == x (all ops), r_out == x, r_out == residual (add ops), y == f (deepnorm). */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("opBackend")
    void inPlace(NormCase op, Backend backend) {
        Inputs in = Inputs.random(TestData.rows(RowKind.RANDOM, 4, 130, 9), 4, 130, 10, true);
        onBackend(backend, k -> {
            assertMatchesReference(op, in, op.run(k, in, Placement.OVER_X));
            if (op.hasSecondInput()) assertMatchesReference(op, in, op.run(k, in, Placement.OVER_SECOND));
        });
    }

    /** The backends agree with each other more tightly than with the reference. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(NormCase.class)
    void backendsAgree(NormCase op) {
        Inputs in = Inputs.random(TestData.rows(RowKind.RANDOM, 6, 777, 12), 6, 777, 13, true);
        Map<Backend, Map<String, float[]>> results = new EnumMap<>(Backend.class);
        for (Backend backend : Backend.values()) {
            try {
                results.put(backend, op.run(backend.kernels(), in, Placement.SEPARATE));
            } catch (UnsupportedOperationException notOnThisBranch) {
                // the native backend arrives with another branch; the others are still compared
            }
        }
        Map<String, float[]> java = results.get(Backend.JAVA);
        results.forEach((backend, outputs) -> outputs.forEach((name, got) -> {
            double[] expected = new double[got.length];
            float[] reference = java.get(name);
            for (int i = 0; i < got.length; i++) expected[i] = reference[i];
            assertClose(backend + " vs java " + name, expected, got, 2e-6, 2e-6);
        }));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void batchnormTrainNeedsTwoRows(Backend backend) {
        Inputs in = Inputs.random(TestData.rows(RowKind.RANDOM, 1, 8, 1), 1, 8, 2, true);
        Kernels k = TestData.kernelsOf(backend);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NormCase.BATCHNORM_TRAIN.run(k, in, Placement.SEPARATE));
        assertTrue(e.getMessage().contains("Expected more than 1 value per channel"),
                e.getMessage());
    }

    private static void assertMatchesReference(NormCase op, Inputs in, Map<String, float[]> got) {
        Map<String, double[]> expected = op.reference(in);
        assertEquals(expected.keySet(), got.keySet(), "outputs of " + op);
        expected.forEach((name, ref) -> assertClose(op + " " + name, ref, got.get(name), RTOL, ATOL));
    }
}
