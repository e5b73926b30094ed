package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import dev.ffmllama.format.ModelConfig;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    private static final String MODEL = SharedData.model("stories260K.bin").toString();

    @Test
    void tablePrintsOneRowPerBackendThreadsAndTest() {
        CliRunner.Result r = CliRunner.run("bench", "--model", MODEL, "-p", "16", "-n", "8", "--threads", "1,2",
                "--backend", "java,vector", "--repeat", "2", "--warmup", "0");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2 + 2 * 2 * 2 + 1, lines.length, r.out()); // header, rule, 8 results, build line
        String build = lines[lines.length - 1];
        assertTrue(build.startsWith("build: JDK " + Runtime.version() + "; vector lanes "), build);
        assertTrue(!build.contains("BLAS"), "no native backend measured, no BLAS named: " + build);
        assertTrue(lines[0].matches("\\| model +\\| +size \\| +params \\| backend \\| threads \\| test +\\| +t/s \\| B/token \\|"),
                lines[0]);
        Pattern row = Pattern.compile("\\| stories260K\\.bin \\| +[0-9.]+ MiB \\| +0\\.26 M \\| (java|vector) +\\| +([12]) \\| "
                + "(pp16|tg8) +\\| +([0-9.]+) ± ([0-9.]+) \\| +([0-9]+) \\|");
        int tg = 0;
        for (int i = 2; i < lines.length - 1; i++) {
            Matcher m = row.matcher(lines[i]);
            assertTrue(m.matches(), lines[i]);
            assertTrue(Double.parseDouble(m.group(4)) > 0, lines[i]);
            if (m.group(3).equals("tg8")) tg++;
        }
        assertEquals(4, tg);
        assertTrue(r.err().contains("java t1 pp16"), "progress on stderr: " + r.err());
    }

    @Test
    void tableNamesTheNativeKernelsAndBlasThatRan() {
        CliRunner.Result r = CliRunner.run("bench", "--model", MODEL, "-p", "0", "-n", "4", "--backend", "native",
                "--repeat", "1", "--no-progress", "--warmup", "0");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().strip().split("\n");
        String build = lines[lines.length - 1];
        assertTrue(build.matches("build: JDK \\S+; native kernels (avx512|avx2|baseline); BLAS .*OpenBLAS.*"), build);
    }

    @Test
    void jsonHasEveryField() {
        CliRunner.Result r = CliRunner.run("bench", "--model", MODEL, "-p", "0", "-n", "4", "--backend", "native",
                "--repeat", "1", "--json", "--no-progress", "--warmup", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        String json = r.out();
        for (String field : new String[] {"\"model\": \"stories260K.bin\"", "\"backend\": \"native\"", "\"threads\": 1",
                "\"test\": \"tg4\"", "\"tokens\": 4", "\"runs\": 1", "\"tokens_per_second\": ", "\"bytes_per_token\": "}) {
            assertTrue(json.contains(field), field + " in " + json);
        }
        assertTrue(json.strip().startsWith("[") && json.strip().endsWith("]"), json);
    }

    @Test
    void badArgumentsAreUserErrors() {
        assertBad("--threads must be >= 1", "bench", "--model", MODEL, "--threads", "0");
        assertBad("unknown backend 'gpu'", "bench", "--model", MODEL, "--backend", "gpu");
        assertBad("nothing to measure", "bench", "--model", MODEL, "-p", "0", "-n", "0");
        assertBad("context is 512", "bench", "--model", MODEL, "-n", "4000");
        assertBad("does not exist", "bench", "--model", "/nonexistent/model.bin");
        assertBad("--warmup must be between 0 and 3600 seconds", "bench", "--model", MODEL, "--warmup", "-1");
    }

    @Test
    void parameterCountOfStories15M() {
        // llama2.c's stories15M: dim 288, hidden 768, 6 layers, 6 heads, vocab 32000, tied classifier
        ModelConfig c = new ModelConfig(288, 768, 6, 6, 6, 32000, 256, 10000f, 1e-5f, true);
        assertEquals(32000L * 288 + 6 * (4L * 288 * 288 + 3L * 288 * 768 + 2 * 288) + 288, BenchCommand.parameterCount(c));
    }

    private static void assertBad(String message, String... args) {
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
    }
}
