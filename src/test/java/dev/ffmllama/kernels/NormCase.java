package dev.ffmllama.kernels;

import static dev.ffmllama.kernels.TestData.floats;
import static dev.ffmllama.kernels.TestData.segment;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The normalization ops as test cases: each runs the op on a backend (optionally in place) and computes
 * the same outputs with {@link Reference}. Outputs are named {@code y}, {@code r} (the add ops' residual
 * sum), {@code running_mean} and {@code running_var} (batchnorm_train).
 */
enum NormCase {
    RMSNORM, RMSNORM_GEMMA, LAYERNORM, ADD_RMSNORM, ADD_LAYERNORM, DEEPNORM, BATCHNORM_INFER, BATCHNORM_TRAIN;

    static final float EPS = 1e-5f;
    static final float ALPHA = 1.7f;
    static final float MOMENTUM = 0.1f;

    /** Where an output is written. */
    enum Placement {
        /** Fresh output buffers. */
        SEPARATE,
        /** The main in-place output (y, or r_out for the add ops) is x itself. */
        OVER_X,
        /** The main in-place output is the second input (residual for the add ops, f for deepnorm). */
        OVER_SECOND
    }

    /** Inputs of one call; weight/bias may be null where the op allows it. */
    record Inputs(int rows, int d, float[] x, float[] second, float[] w, float[] b, float[] runningMean,
                  float[] runningVar) {
        static Inputs random(float[] x, int rows, int d, long seed, boolean withAffine) {
            return new Inputs(rows, d, x, TestData.random(rows * d, 0, 1, seed + 1),
                    withAffine ? TestData.random(d, 1, 0.5, seed + 2) : null,
                    withAffine ? TestData.random(d, 0, 0.2, seed + 3) : null,
                    TestData.random(d, 0, 0.3, seed + 4), TestData.uniform(d, 0.5, 2, seed + 5));
        }
    }

    boolean hasSecondInput() {
        return this == ADD_RMSNORM || this == ADD_LAYERNORM || this == DEEPNORM;
    }

    boolean needsWeight() {
        return this == RMSNORM || this == RMSNORM_GEMMA || this == ADD_RMSNORM;
    }

    /** Runs the op on {@code k} and returns its outputs by name. */
    Map<String, float[]> run(Kernels k, Inputs in, Placement placement) {
        try (Arena arena = Arena.ofConfined()) {
            long rows = in.rows();
            long d = in.d();
            MemorySegment x = segment(arena, in.x());
            MemorySegment second = segment(arena, in.second());
            MemorySegment w = segment(arena, in.w());
            MemorySegment b = segment(arena, in.b());
            MemorySegment mean = segment(arena, in.runningMean());
            MemorySegment var = segment(arena, in.runningVar());
            MemorySegment main = switch (placement) {
                case SEPARATE -> arena.allocate(rows * d * Float.BYTES, 64);
                case OVER_X -> x;
                case OVER_SECOND -> second;
            };
            MemorySegment y = hasSecondInput() && this != DEEPNORM ? arena.allocate(rows * d * Float.BYTES, 64) : main;
            Map<String, float[]> out = new LinkedHashMap<>();
            switch (this) {
                case RMSNORM -> k.rmsnorm(x, w, y, rows, d, EPS);
                case RMSNORM_GEMMA -> k.rmsnormGemma(x, w, y, rows, d, EPS);
                case LAYERNORM -> k.layernorm(x, w, b, y, rows, d, EPS);
                case ADD_RMSNORM -> k.addRmsnorm(x, second, w, main, y, rows, d, EPS);
                case ADD_LAYERNORM -> k.addLayernorm(x, second, w, b, main, y, rows, d, EPS);
                case DEEPNORM -> k.deepnorm(x, second, ALPHA, w, b, y, rows, d, EPS);
                case BATCHNORM_INFER -> k.batchnormInfer(x, mean, var, w, b, y, rows, d, EPS);
                case BATCHNORM_TRAIN -> k.batchnormTrain(x, w, b, mean, var, y, rows, d, EPS, MOMENTUM);
            }
            out.put("y", floats(y));
            if (this == ADD_RMSNORM || this == ADD_LAYERNORM) out.put("r", floats(main));
            if (this == BATCHNORM_TRAIN) {
                out.put("running_mean", floats(mean));
                out.put("running_var", floats(var));
            }
            return out;
        }
    }

    /** The float64 reference outputs, by the same names as {@link #run}. */
    Map<String, double[]> reference(Inputs in) {
        int rows = in.rows();
        int d = in.d();
        Map<String, double[]> out = new LinkedHashMap<>();
        switch (this) {
            case RMSNORM -> out.put("y", Reference.rmsnorm(in.x(), in.w(), rows, d, EPS, 0));
            case RMSNORM_GEMMA -> out.put("y", Reference.rmsnorm(in.x(), in.w(), rows, d, EPS, 1));
            case LAYERNORM -> out.put("y", Reference.layernorm(Reference.toDouble(in.x()), in.w(), in.b(), rows, d, EPS));
            case ADD_RMSNORM -> {
                double[] r = Reference.scaledAdd(1, in.x(), in.second());
                out.put("y", Reference.rmsnorm(Reference.toFloat(r), in.w(), rows, d, EPS, 0));
                out.put("r", r);
            }
            case ADD_LAYERNORM -> {
                double[] r = Reference.scaledAdd(1, in.x(), in.second());
                out.put("y", Reference.layernorm(r, in.w(), in.b(), rows, d, EPS));
                out.put("r", r);
            }
            case DEEPNORM -> out.put("y",
                    Reference.layernorm(Reference.scaledAdd(ALPHA, in.x(), in.second()), in.w(), in.b(), rows, d, EPS));
            case BATCHNORM_INFER -> out.put("y", Reference.batchnormInfer(in.x(), in.runningMean(), in.runningVar(),
                    in.w(), in.b(), rows, d, EPS));
            case BATCHNORM_TRAIN -> {
                double[][] yMeanVar = Reference.batchnormTrain(in.x(), in.w(), in.b(), in.runningMean(),
                        in.runningVar(), rows, d, EPS, MOMENTUM);
                out.put("y", yMeanVar[0]);
                out.put("running_mean", yMeanVar[1]);
                out.put("running_var", yMeanVar[2]);
            }
        }
        return out;
    }
}
