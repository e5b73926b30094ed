package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import dev.ffmllama.format.Npy;
import dev.ffmllama.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --layout on the model commands and bench --layouts. */
class LayoutCliTest {
    private static final String MODEL = SharedData.model("stories260K.bin").toString();

    @Test
    void logitsWithALayoutMatchTheDefault(@TempDir Path dir) {
        Path plain = dir.resolve("plain.npy"), laidOut = dir.resolve("layout.npy");
        // java backend: fusion and a head-major cache change no float32 sum, so the logits are bit-identical
        assertEquals(0, CliRunner.run("logits", "--model", MODEL, "--backend", "java", "--prompt", "Once upon a time",
                "--out", plain.toString()).exitCode());
        CliRunner.Result r = CliRunner.run("logits", "--model", MODEL, "--backend", "java", "--prompt", "Once upon a time",
                "--layout", "qkv=fused,ffn=fused,kv=head-major,align=64", "--out", laidOut.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (Tensor a = Npy.readFloats(plain); Tensor b = Npy.readFloats(laidOut)) {
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        }
    }

    @Test
    void badLayoutsAreUserErrors() {
        assertBad("unknown layout key 'cache'", "generate", "--model", MODEL, "--layout", "cache=f16", "hi");
        assertBad("qkv=separate|fused", "logits", "--model", MODEL, "--layout", "qkv=yes", "--prompt", "a", "--out",
                "/tmp/never.npy");
        assertBad("matrix=transposed needs F32", "generate", "--model", MODEL, "--weights", "q8_0", "--layout",
                "matrix=transposed", "hi");
        assertBad("--layouts: unknown layout key", "bench", "--model", MODEL, "--layouts", "bogus=1");
        assertBad("--chart and --weights need --layouts", "bench", "--model", MODEL, "--chart", "/tmp/x.png");
    }

    @Test
    void benchLayoutsComparesEachLayoutWithTheDefault(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("layouts.png");
        CliRunner.Result r = CliRunner.run("bench", "--model", MODEL, "--backend", "java", "-p", "8", "-n", "4",
                "--repeat", "1", "--warmup", "0", "--no-progress", "--layouts", "qkv=fused;kv=head-major,kv-type=f16", "--chart",
                png.toString());
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2 + 3 * 2, lines.length, r.out()); // header, rule, 3 layouts x (pp8, tg4)
        assertTrue(lines[0].contains("| layout |") && lines[0].contains("vs default") && lines[0].contains("weights B/token"),
                lines[0]);
        assertTrue(lines[2].matches("\\| java \\| 1 \\| default \\| pp8 \\| [0-9.]+ ± [0-9.]+ \\| 1\\.000 \\| .*"), lines[2]);
        assertTrue(lines[3].contains("| default | tg4 |") && lines[3].contains("| 1.000 |"), lines[3]);
        assertTrue(r.out().contains("| qkv=fused | tg4 |"), r.out());
        // an F16 cache halves the KV bytes a token reads; the weights read are the same
        String f16 = lines[7];
        assertTrue(f16.contains("| kv=head-major,kv-type=f16 | tg4 |"), f16);
        assertEquals(kvBytes(lines[3]) / 2, kvBytes(f16), f16);
        assertTrue(Files.size(png) > 1000, "chart written");
    }

    private static long kvBytes(String row) {
        String[] cells = row.split("\\|");
        return Long.parseLong(cells[8].trim().replace(",", ""));
    }

    private static void assertBad(String message, String... args) {
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
    }
}
