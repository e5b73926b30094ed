package dev.ffmllama.cli;

import dev.ffmllama.format.Npy;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.kernels.Kernels;
import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ffm-llama norm}: runs one normalization kernel on {@code .npy} inputs and writes its outputs as
 * {@code .npy} files, so any backend can be checked against NumPy/PyTorch from a script.
 *
 * <p>x is {@code [rows, d]} or {@code [d]}; weight and bias are {@code [d]} (gamma and beta for the
 * batchnorms, whose statistics are per feature over the rows). Outputs in {@code --out-dir}: {@code y.npy};
 * {@code r.npy} (x + residual) for the add ops; {@code new_running_mean.npy} and
 * {@code new_running_var.npy} for batchnorm_train. Defaults: eps 1e-5, alpha 1.0, momentum 0.1 (PyTorch's).
 */
@Command(name = "norm", mixinStandardHelpOptions = true,
        description = {"Runs a normalization kernel on .npy inputs and writes the outputs as .npy files.",
                "Outputs: y.npy; r.npy (add_rmsnorm, add_layernorm);"
                        + " new_running_mean.npy and new_running_var.npy (batchnorm_train)."})
final class NormCommand implements Callable<Integer> {
    static final float DEFAULT_EPS = 1e-5f;
    static final float DEFAULT_ALPHA = 1f;
    static final float DEFAULT_MOMENTUM = 0.1f;

    /** The optional tensor operands, by their option names. */
    enum Operand {
        WEIGHT("--weight"), BIAS("--bias"), RESIDUAL("--residual"), F("--f"),
        RUNNING_MEAN("--running-mean"), RUNNING_VAR("--running-var");

        final String option;

        Operand(String option) {
            this.option = option;
        }
    }

    /** The ops, with the operands each requires and accepts. */
    enum Op {
        RMSNORM(EnumSet.of(Operand.WEIGHT), EnumSet.noneOf(Operand.class)),
        RMSNORM_GEMMA(EnumSet.of(Operand.WEIGHT), EnumSet.noneOf(Operand.class)),
        LAYERNORM(EnumSet.noneOf(Operand.class), EnumSet.of(Operand.WEIGHT, Operand.BIAS)),
        ADD_RMSNORM(EnumSet.of(Operand.RESIDUAL, Operand.WEIGHT), EnumSet.noneOf(Operand.class)),
        ADD_LAYERNORM(EnumSet.of(Operand.RESIDUAL), EnumSet.of(Operand.WEIGHT, Operand.BIAS)),
        DEEPNORM(EnumSet.of(Operand.F), EnumSet.of(Operand.WEIGHT, Operand.BIAS)),
        BATCHNORM_INFER(EnumSet.of(Operand.RUNNING_MEAN, Operand.RUNNING_VAR), EnumSet.of(Operand.WEIGHT, Operand.BIAS)),
        BATCHNORM_TRAIN(EnumSet.of(Operand.RUNNING_MEAN, Operand.RUNNING_VAR), EnumSet.of(Operand.WEIGHT, Operand.BIAS)),
        SOFTMAX(EnumSet.noneOf(Operand.class), EnumSet.noneOf(Operand.class));

        final Set<Operand> required;
        final Set<Operand> optional;

        Op(Set<Operand> required, Set<Operand> optional) {
            this.required = required;
            this.optional = optional;
        }

        String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static String allNames() {
            return Arrays.stream(values()).map(Op::cliName).collect(Collectors.joining(", "));
        }
    }

    static final class OpConverter implements CommandLine.ITypeConverter<Op> {
        @Override
        public Op convert(String value) {
            for (Op op : Op.values()) {
                if (op.cliName().equals(value.trim().toLowerCase(Locale.ROOT))) return op;
            }
            throw new CommandLine.TypeConversionException("unknown op '" + value + "' (expected one of "
                    + Op.allNames() + ")");
        }
    }

    static final class BackendConverter implements CommandLine.ITypeConverter<Backend> {
        @Override
        public Backend convert(String value) {
            try {
                return Backend.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--op", required = true, converter = OpConverter.class, paramLabel = "OP",
            description = "rmsnorm, rmsnorm_gemma, layernorm, add_rmsnorm, add_layernorm, deepnorm, "
                    + "batchnorm_infer, batchnorm_train or softmax")
    Op op;

    @Option(names = "--x", required = true, paramLabel = "X.npy", description = "Input, float32 [rows, d] or [d].")
    Path x;

    @Option(names = "--weight", paramLabel = "W.npy", description = "Weight [d] (gamma for the batchnorms).")
    Path weight;

    @Option(names = "--bias", paramLabel = "B.npy", description = "Bias [d] (beta for the batchnorms).")
    Path bias;

    @Option(names = "--residual", paramLabel = "R.npy", description = "Residual, same shape as x (add ops).")
    Path residual;

    @Option(names = "--f", paramLabel = "F.npy", description = "Sublayer output f(x), same shape as x (deepnorm).")
    Path f;

    @Option(names = "--running-mean", paramLabel = "M.npy", description = "Running mean [d] (batchnorms).")
    Path runningMean;

    @Option(names = "--running-var", paramLabel = "V.npy", description = "Running variance [d] (batchnorms).")
    Path runningVar;

    @Option(names = "--eps", paramLabel = "E", description = "Added to the variance inside the sqrt (default 1e-5).")
    Float eps;

    @Option(names = "--alpha", paramLabel = "A", description = "deepnorm's residual scale (default 1.0).")
    Float alpha;

    @Option(names = "--momentum", paramLabel = "M", description = "batchnorm_train's running-stat momentum (default 0.1).")
    Float momentum;

    @Option(names = "--backend", required = true, converter = BackendConverter.class, paramLabel = "BACKEND",
            description = "native, vector or java")
    Backend backend;

    @Option(names = "--out-dir", required = true, paramLabel = "DIR", description = "Where the outputs are written.")
    Path outDir;

    @Override
    public Integer call() throws IOException {
        Map<Operand, Path> given = givenOperands();
        checkOperands(given);
        checkScalars();
        List<Tensor> open = new ArrayList<>();
        try {
            Map<Operand, Tensor> in = new EnumMap<>(Operand.class);
            given.forEach((operand, path) -> in.put(operand, track(open, Npy.readFloats(path))));
            Tensor input = track(open, Npy.readFloats(x));
            Map<String, Tensor> outputs = run(backend.kernels(), input, in, open);
            Files.createDirectories(outDir);
            for (Map.Entry<String, Tensor> out : outputs.entrySet()) {
                Path file = outDir.resolve(out.getKey() + ".npy");
                Npy.write(file, out.getValue());
                spec.commandLine().getOut().println("wrote " + file + " " + Arrays.toString(out.getValue().shape()));
            }
            return 0;
        } finally {
            open.forEach(Tensor::close);
        }
    }

    /** Runs the op; returns its outputs by file name (without .npy). */
    private Map<String, Tensor> run(Kernels k, Tensor input, Map<Operand, Tensor> in, List<Tensor> open) {
        float e = eps == null ? DEFAULT_EPS : eps;
        Tensor w = in.get(Operand.WEIGHT);
        Tensor b = in.get(Operand.BIAS);
        Tensor y = track(open, Tensor.allocate(DType.F32, input.shape()));
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        out.put("y", y);
        switch (op) {
            case RMSNORM -> k.rmsnorm(input, w, y, e);
            case RMSNORM_GEMMA -> k.rmsnormGemma(input, w, y, e);
            case LAYERNORM -> k.layernorm(input, w, b, y, e);
            case ADD_RMSNORM, ADD_LAYERNORM -> {
                Tensor r = track(open, Tensor.allocate(DType.F32, input.shape()));
                if (op == Op.ADD_RMSNORM) k.addRmsnorm(input, in.get(Operand.RESIDUAL), w, r, y, e);
                else k.addLayernorm(input, in.get(Operand.RESIDUAL), w, b, r, y, e);
                out.put("r", r);
            }
            case DEEPNORM -> k.deepnorm(input, in.get(Operand.F), alpha == null ? DEFAULT_ALPHA : alpha, w, b, y, e);
            case BATCHNORM_INFER -> k.batchnormInfer(input, in.get(Operand.RUNNING_MEAN), in.get(Operand.RUNNING_VAR),
                    w, b, y, e);
            case BATCHNORM_TRAIN -> {
                // The running statistics are updated in place in the loaded tensors.
                k.batchnormTrain(input, w, b, in.get(Operand.RUNNING_MEAN), in.get(Operand.RUNNING_VAR), y, e,
                        momentum == null ? DEFAULT_MOMENTUM : momentum);
                out.put("new_running_mean", in.get(Operand.RUNNING_MEAN));
                out.put("new_running_var", in.get(Operand.RUNNING_VAR));
            }
            case SOFTMAX -> k.softmax(input, y);
        }
        return out;
    }

    private Map<Operand, Path> givenOperands() {
        Map<Operand, Path> given = new EnumMap<>(Operand.class);
        Path[] paths = {weight, bias, residual, f, runningMean, runningVar};
        for (Operand operand : Operand.values()) {
            if (paths[operand.ordinal()] != null) given.put(operand, paths[operand.ordinal()]);
        }
        return given;
    }

    private void checkOperands(Map<Operand, Path> given) {
        for (Operand operand : op.required) {
            if (!given.containsKey(operand)) {
                throw new UserException(op.cliName() + " needs " + operand.option);
            }
        }
        for (Operand operand : given.keySet()) {
            if (!op.required.contains(operand) && !op.optional.contains(operand)) {
                throw new UserException(operand.option + " is not used by " + op.cliName());
            }
        }
    }

    private void checkScalars() {
        if (eps != null && op == Op.SOFTMAX) throw new UserException("--eps is not used by softmax");
        if (alpha != null && op != Op.DEEPNORM) throw new UserException("--alpha is only used by deepnorm");
        if (momentum != null && op != Op.BATCHNORM_TRAIN) {
            throw new UserException("--momentum is only used by batchnorm_train");
        }
    }

    private static Tensor track(List<Tensor> open, Tensor t) {
        open.add(t);
        return t;
    }
}
