package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.GenerationLimits;
import dev.ffmllama.GenerationResult;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.SharedData;
import dev.ffmllama.format.GgufFile;
import dev.ffmllama.format.GgufMetadata;
import dev.ffmllama.format.NormSpec;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synth and inspect commands end to end. */
class SynthAndInspectCommandTest {
    @TempDir
    Path dir;

    private Path synth(String name, String... extra) {
        Path out = dir.resolve(name);
        String[] base = {"synth", "--dim", "32", "--hidden", "64", "--layers", "4", "--heads", "4", "--kv-heads", "2",
                "--context", "64", "--tokenizer-from", SharedData.model("stories260K.gguf").toString(), "--out", out.toString()};
        String[] args = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(0, r.exitCode(), r.err());
        return out;
    }

    @Test
    void preRmsnormFileIsAPlainLlamaGgufThatRuns() throws Exception {
        Path file = synth("pre.gguf");
        try (GgufFile g = GgufFile.open(file); GgufFile stories = GgufFile.open(SharedData.model("stories260K.gguf"))) {
            GgufMetadata md = g.metadata();
            for (String key : List.of("general.architecture", "llama.context_length", "llama.embedding_length",
                    "llama.block_count", "llama.feed_forward_length", "llama.rope.dimension_count",
                    "llama.attention.head_count", "llama.attention.head_count_kv",
                    "llama.attention.layer_norm_rms_epsilon", "general.alignment")) {
                assertTrue(md.has(key), "missing " + key);
            }
            assertEquals(32, md.getInt("general.alignment"));
            for (String key : md.keys()) assertFalse(key.contains("norm_type") || key.contains("placement"), key);
            // the tokenizer is copied key for key
            for (String key : stories.metadata().keys()) {
                if (key.startsWith("tokenizer.")) assertEquals(stories.metadata().type(key), md.type(key), key);
            }
            assertEquals(0, g.tensorInfo("blk.0.attn_norm.weight").orElseThrow().offset() % 32);
        }
        try (Model model = Model.load(file);
             Session session = model.newSession(SessionOptions.defaults().greedy())) {
            assertEquals(NormSpec.PRE_RMSNORM, model.config().norm());
            assertEquals(512, model.config().vocabSize());
            GenerationResult r = session.generate("Once upon a time", new GenerationLimits(10, false), (t, p) -> true);
            assertEquals(10, r.generatedTokens());
        }
    }

    @Test
    void llama2cTokenizerIsConvertedAsLlamaCppDoes() throws Exception {
        Path file = synth("tok.gguf", "--placement", "post");
        Path viaBin = dir.resolve("tok-bin.gguf");
        CliRunner.Result r = CliRunner.run("synth", "--tokenizer-from", SharedData.model("tok512.bin").toString(),
                "--out", viaBin.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (GgufFile a = GgufFile.open(SharedData.model("stories260K.gguf")); GgufFile b = GgufFile.open(viaBin)) {
            for (String key : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")) {
                var x = a.metadata().getArray(key);
                var y = b.metadata().getArray(key);
                assertEquals(x.length(), y.length(), key);
                switch (x.elementType()) {
                    case STRING -> {
                        for (int i = 0; i < x.length(); i++) assertEquals(x.string(i), y.string(i), key + "[" + i + "]");
                    }
                    case FLOAT32 -> assertArrayEquals(x.floats(), y.floats(), key);
                    default -> assertArrayEquals(x.longs(), y.longs(), key);
                }
            }
        }
        try (Model a = Model.load(file); Model b = Model.load(viaBin)) {
            String text = "Lily and Tom went to the park.";
            assertArrayEquals(a.tokenizer().encode(text, true, false), b.tokenizer().encode(text, true, false));
        }
    }

    @Test
    void deepNormScalesTheInitOfValueOutputAndFeedForwardByBeta() throws Exception {
        Path file = synth("deep.gguf", "--placement", "deepnorm", "--norm-type", "layernorm"); // 4 layers
        double beta = Math.pow(8.0 * 4, -0.25);
        try (GgufFile g = GgufFile.open(file)) {
            GgufMetadata md = g.metadata();
            assertEquals("layernorm", md.getString("llama.norm_type"));
            assertEquals("deepnorm", md.getString("llama.norm_placement"));
            assertEquals(Math.pow(8, 0.25), md.getFloat("llama.deepnorm_alpha"), 1e-6);
            assertTrue(md.has("llama.attention.layer_norm_epsilon"));
            double q = std(g, "blk.2.attn_q.weight");
            assertEquals(0.02, q, 0.002);
            for (String t : List.of("attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")) {
                assertEquals(0.02 * beta, std(g, "blk.2." + t + ".weight"), 0.002 * beta, t);
            }
            assertTrue(g.tensorInfo("blk.0.attn_norm.bias").isPresent());
            assertTrue(g.tensorInfo("output_norm.bias").isPresent());
        }
        try (Model model = Model.load(file)) {
            assertEquals(NormSpec.Placement.DEEPNORM, model.config().normPlacement());
        }
    }

    @Test
    void sandwichFileHasGemma2PostNorms() throws Exception {
        Path file = synth("sandwich.gguf", "--placement", "sandwich", "--norm-type", "layernorm");
        try (GgufFile g = GgufFile.open(file)) {
            for (String t : List.of("post_attention_norm.weight", "post_attention_norm.bias", "post_ffw_norm.weight",
                    "post_ffw_norm.bias")) {
                assertTrue(g.tensorInfo("blk.3." + t).isPresent(), t);
            }
        }
    }

    @Test
    void badSynthArgumentsAreRefused() {
        String tok = SharedData.model("stories260K.gguf").toString();
        String out = dir.resolve("x.gguf").toString();
        assertError(CliRunner.run("synth", "--vocab", "100", "--tokenizer-from", tok, "--out", out), "does not match the 512 tokens");
        assertError(CliRunner.run("synth", "--alpha", "2", "--tokenizer-from", tok, "--out", out), "deepnorm only");
        assertError(CliRunner.run("synth", "--placement", "middle", "--tokenizer-from", tok, "--out", out), "unknown norm placement");
        assertError(CliRunner.run("synth", "--heads", "5", "--tokenizer-from", tok, "--out", out), "does not divide dim");
        assertError(CliRunner.run("synth", "--tokenizer-from", dir.resolve("none").toString(), "--out", out), "does not exist");
        assertFalse(Files.exists(dir.resolve("x.gguf")));
    }

    @Test
    void inspectStatsPrintsEveryLayerAndWritesAChart() throws Exception {
        Path pre = synth("pre.gguf");
        Path post = synth("post.gguf", "--placement", "post");
        Path png = dir.resolve("chart.png");
        CliRunner.Result r = CliRunner.run("inspect", "--stats", "--model", pre.toString(), "--model", post.toString(),
                "--prompt", "Once upon a time", "--png", png.toString(), "--backend", "java");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("pre/rmsnorm") && r.out().contains("post/rmsnorm"), r.out());
        assertTrue(r.out().contains("block in") && r.out().contains("N2 out") && r.out().contains("final norm"), r.out());
        // a post-norm block's input (from layer 1 on) is an RMSNorm output with weight 1: RMS 1
        String postTable = r.out().substring(r.out().indexOf("post.gguf"));
        String layer2 = postTable.lines().filter(l -> l.trim().startsWith("2 ")).findFirst().orElseThrow();
        double rms = Double.parseDouble(layer2.trim().split("\\s+")[1]);
        assertEquals(1.0, rms, 0.01, layer2);
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        assertTrue(Files.size(png) > 5000);

        assertError(CliRunner.run("inspect", "--model", pre.toString(), "--png", png.toString()), "--png needs --stats");
    }

    private static double std(GgufFile g, String name) {
        float[] v = g.tensorData(g.tensorInfo(name).orElseThrow()).toArray(ValueLayout.JAVA_FLOAT);
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s / v.length);
    }

    private static void assertError(CliRunner.Result r, String fragment) {
        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains(fragment), "stderr '" + r.err() + "' lacks '" + fragment + "'");
    }
}
