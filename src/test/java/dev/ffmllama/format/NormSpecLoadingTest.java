package dev.ffmllama.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import dev.ffmllama.synth.SynthSpec;
import dev.ffmllama.synth.SyntheticModel;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The norm-variant keys and tensors of a GGUF file: defaults, and clear errors for bad ones. */
class NormSpecLoadingTest {
    @TempDir
    Path dir;

    @Test
    void aFileWithoutVariantKeysIsPreRmsnorm() throws Exception {
        try (GgufModel m = GgufModel.open(SharedData.model("stories260K.gguf"))) {
            assertEquals(NormSpec.PRE_RMSNORM, m.config().norm());
            assertEquals(1e-5f, m.config().normEps());
        }
    }

    @Test
    void deepNormAlphaDefaultsToDeepNetsValue() throws Exception {
        Path file = variant(NormSpec.Type.LAYERNORM, NormSpec.Placement.DEEPNORM);
        Path noAlpha = rewrite(file, "no-alpha.gguf", k -> !k.equals("llama.deepnorm_alpha"), null, null);
        try (GgufModel m = GgufModel.open(noAlpha)) {
            assertEquals(Math.pow(2 * 3, 0.25), m.config().norm().alpha(), 1e-6);
            assertEquals(NormSpec.Type.LAYERNORM, m.config().normType());
        }
    }

    @Test
    void badVariantKeysAndMissingTensorsAreNamed() throws Exception {
        Path pre = variant(NormSpec.Type.RMSNORM, NormSpec.Placement.PRE);
        assertFails(rewrite(pre, "a.gguf", k -> true, "llama.norm_type", "batchnorm"), "unknown norm type 'batchnorm'");
        assertFails(rewrite(pre, "b.gguf", k -> true, "llama.norm_placement", "middle"), "unknown norm placement 'middle'");
        assertFails(rewrite(pre, "c.gguf", k -> true, "llama.deepnorm_alpha", 2f), "is set but llama.norm_placement is pre");
        // a LayerNorm model needs its biases; a sandwich model its post-sublayer norms
        assertFails(rewrite(pre, "d.gguf", k -> true, "llama.norm_type", "layernorm"), "blk.0.attn_norm.bias");
        assertFails(rewrite(pre, "e.gguf", k -> true, "llama.norm_placement", "sandwich"),
                "blk.0.post_attention_norm.weight");
        Path deep = variant(NormSpec.Type.RMSNORM, NormSpec.Placement.DEEPNORM);
        assertFails(rewrite(deep, "f.gguf", k -> !k.equals("llama.deepnorm_alpha"), "llama.deepnorm_alpha", -1f),
                "is not a positive number");
    }

    private Path variant(NormSpec.Type type, NormSpec.Placement placement) throws Exception {
        Path out = dir.resolve(type.key() + "-" + placement.key() + ".gguf");
        SyntheticModel.write(new SynthSpec(16, 24, 3, 2, 1, 0, 16, NormSpec.of(type, placement, 3), 1, 0.02, 0),
                SharedData.model("stories260K.gguf"), out);
        return out;
    }

    /** A copy of {@code file} keeping the keys {@code keep} accepts, plus one extra string or float entry. */
    private Path rewrite(Path file, String name, Predicate<String> keep, String extraKey, Object extraValue) throws Exception {
        Path out = dir.resolve(name);
        try (GgufFile in = GgufFile.open(file)) {
            GgufWriter w = new GgufWriter().copyMetadata(in.metadata(), k -> keep.test(k) && !k.equals(extraKey));
            if (extraValue instanceof String s) w.putString(extraKey, s);
            if (extraValue instanceof Float f) w.putFloat32(extraKey, f);
            w.copyTensors(in).write(out);
        }
        return out;
    }

    private static void assertFails(Path file, String fragment) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufModel.open(file).close());
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
