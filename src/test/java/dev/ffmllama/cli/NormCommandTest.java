package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ffmllama.format.Npy;
import dev.ffmllama.kernels.Reference;
import dev.ffmllama.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code ffm-llama norm} end to end through {@link Main#execute}: .npy in, .npy out, exit codes. */
class NormCommandTest {
    private static final int ROWS = 4;
    private static final int D = 37;

    @TempDir
    Path dir;

    private final Random rnd = new Random(42);

    private float[] random(int n, double mean, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (mean + sd * rnd.nextGaussian());
        return v;
    }

    private Path save(String name, float[] values, long... shape) {
        Path p = dir.resolve(name + ".npy");
        try (Tensor t = Tensor.ofFloats(values, shape)) {
            Npy.write(p, t);
        }
        return p;
    }

    private static float[] load(Path p) {
        try (Tensor t = Npy.readFloats(p)) {
            return t.toFloatArray();
        }
    }

    /** Exit code and stderr of one run. */
    private record Run(int exitCode, String err) {
    }

    private Run norm(String... args) {
        List<String> all = new ArrayList<>(List.of("norm"));
        all.addAll(Arrays.asList(args));
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Run(Main.execute(all.toArray(String[]::new)), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(savedErr);
        }
    }

    private static void assertClose(String what, double[] expected, float[] got) {
        assertEquals(expected.length, got.length, what + " length");
        for (int i = 0; i < got.length; i++) {
            if (Math.abs(got[i] - expected[i]) > 1e-5 + 1e-5 * Math.abs(expected[i])) {
                fail(what + "[" + i + "] = " + got[i] + ", expected " + expected[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"java", "vector"})
    void rmsnormMatchesReference(String backend) {
        float[] x = random(ROWS * D, 0, 2);
        float[] w = random(D, 1, 0.3);
        Path out = dir.resolve("out-" + backend);
        Run run = norm("--op", "rmsnorm", "--x", save("x", x, ROWS, D).toString(), "--weight",
                save("w", w, D).toString(), "--backend", backend, "--out-dir", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertClose("y", Reference.rmsnorm(x, w, ROWS, D, 1e-5, 0), load(out.resolve("y.npy")));
    }

    @Test
    void addLayernormWritesYAndR() {
        float[] x = random(ROWS * D, 0, 1);
        float[] res = random(ROWS * D, 3, 1);
        float[] b = random(D, 0, 0.1);
        Path out = dir.resolve("out");
        Run run = norm("--op", "add_layernorm", "--x", save("x", x, ROWS, D).toString(), "--residual",
                save("r", res, ROWS, D).toString(), "--bias", save("b", b, D).toString(), "--eps", "1e-3",
                "--backend", "vector", "--out-dir", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        double[] r = Reference.scaledAdd(1, x, res);
        assertClose("r", r, load(out.resolve("r.npy")));
        assertClose("y", Reference.layernorm(r, null, b, ROWS, D, 1e-3), load(out.resolve("y.npy")));
    }

    @Test
    void deepnormUsesAlphaAndOneDimensionalX() {
        float[] x = random(D, 0, 1);
        float[] f = random(D, 0, 1);
        Path out = dir.resolve("out");
        Run run = norm("--op", "deepnorm", "--x", save("x", x, D).toString(), "--f", save("f", f, D).toString(),
                "--alpha", "2.5", "--backend", "java", "--out-dir", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertClose("y", Reference.layernorm(Reference.scaledAdd(2.5, x, f), null, null, 1, D, 1e-5),
                load(out.resolve("y.npy")));
    }

    @Test
    void batchnormTrainWritesUpdatedRunningStatistics() {
        float[] x = random(ROWS * D, 1, 2);
        float[] mean = random(D, 0, 0.1);
        float[] var = random(D, 1, 0.1);
        float[] gamma = random(D, 1, 0.2);
        Path out = dir.resolve("out");
        Run run = norm("--op", "batchnorm_train", "--x", save("x", x, ROWS, D).toString(),
                "--running-mean", save("m", mean, D).toString(), "--running-var", save("v", var, D).toString(),
                "--weight", save("g", gamma, D).toString(), "--momentum", "0.2", "--backend", "vector",
                "--out-dir", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        double[][] expected = Reference.batchnormTrain(x, gamma, null, mean, var, ROWS, D, 1e-5, 0.2);
        assertClose("y", expected[0], load(out.resolve("y.npy")));
        assertClose("running_mean", expected[1], load(out.resolve("new_running_mean.npy")));
        assertClose("running_var", expected[2], load(out.resolve("new_running_var.npy")));
    }

    @Test
    void userErrorsExitOneWithOneLine() {
        String x = save("x", random(ROWS * D, 0, 1), ROWS, D).toString();
        String w = save("w", random(D, 1, 0.1), D).toString();
        String wrongW = save("w5", random(5, 1, 0.1), 5).toString();
        String out = dir.resolve("out").toString();
        assertUserError("rmsnorm needs --weight", norm("--op", "rmsnorm", "--x", x, "--backend", "java",
                "--out-dir", out));
        assertUserError("weight must have shape [37]", norm("--op", "rmsnorm", "--x", x, "--weight", wrongW,
                "--backend", "java", "--out-dir", out));
        assertUserError("--residual is not used by layernorm", norm("--op", "layernorm", "--x", x,
                "--residual", x, "--backend", "java", "--out-dir", out));
        assertUserError("eps must be finite and >= 0", norm("--op", "layernorm", "--x", x, "--eps", "-1",
                "--backend", "java", "--out-dir", out));
        assertUserError("--alpha is only used by deepnorm", norm("--op", "rmsnorm", "--x", x, "--weight", w,
                "--alpha", "2", "--backend", "java", "--out-dir", out));
        assertUserError("Expected more than 1 value per channel", norm("--op", "batchnorm_train", "--x",
                save("x1", random(D, 0, 1), 1, D).toString(), "--running-mean", w, "--running-var", w,
                "--backend", "java", "--out-dir", out));
        assertUserError("residual has shape [37] but x has shape [4, 37]", norm("--op", "add_rmsnorm", "--x", x,
                "--residual", w, "--weight", w, "--backend", "java", "--out-dir", out));
    }

    @Test
    void badNpyInputExitsOne() throws Exception {
        Path notNpy = dir.resolve("bad.npy");
        Files.writeString(notNpy, "not numpy");
        assertUserError("bad magic", norm("--op", "layernorm", "--x", notNpy.toString(), "--backend", "java",
                "--out-dir", dir.toString()));
        assertUserError("missing.npy: no such file", norm("--op", "layernorm", "--x", dir.resolve("missing.npy").toString(),
                "--backend", "java", "--out-dir", dir.toString()));
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, norm("--op", "rmsnorm", "--backend", "java", "--out-dir", "o").exitCode(), "missing --x");
        assertEquals(2, norm("--op", "nope", "--x", "x.npy", "--backend", "java", "--out-dir", "o").exitCode());
        assertEquals(2, norm("--op", "rmsnorm", "--x", "x.npy", "--backend", "gpu", "--out-dir", "o").exitCode());
        assertEquals(2, norm("--op", "rmsnorm", "--x", "x.npy", "--backend", "java", "--out-dir", "o",
                "--eps", "abc").exitCode());
    }

    private static void assertUserError(String expected, Run run) {
        assertEquals(1, run.exitCode(), run.err());
        String[] lines = run.err().strip().split("\n");
        assertEquals(1, lines.length, "one line: " + run.err());
        assertTrue(lines[0].startsWith("error: ") && lines[0].contains(expected), run.err());
        assertFalse(lines[0].contains("Exception"), run.err());
    }
}
