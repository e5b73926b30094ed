package dev.ffmllama;

import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.WeightType;
import java.nio.file.Path;

/**
 * How {@link Model#load(Path, LoadOptions)} reads a model.
 *
 * @param tokenizer a llama2.c tokenizer file, or null for the GGUF vocabulary / a tokenizer beside the model
 * @param weights   convert every matrix to this type at load time (an off-heap copy), or null to use the
 *                  file's tensors in place
 * @param layout    how the weights are held in memory: the weight keys of a {@link Layout} (qkv, ffn, matrix,
 *                  align, hugepages); the KV-cache keys belong to {@link SessionOptions#withLayout}
 */
public record LoadOptions(Path tokenizer, WeightType weights, Layout layout) {
    public LoadOptions {
        if (layout == null) throw new IllegalArgumentException("layout is required (Layout.defaults())");
        if (layout.hasCacheKeys()) {
            throw new IllegalArgumentException("layout " + layout + " sets KV-cache keys (kv, kv-type): pass those in "
                    + "SessionOptions.withLayout (Layout.cachePart()), the weight keys here (Layout.weightPart())");
        }
    }

    public static LoadOptions defaults() {
        return new LoadOptions(null, null, Layout.defaults());
    }

    public LoadOptions withTokenizer(Path t) {
        return new LoadOptions(t, weights, layout);
    }

    public LoadOptions withWeights(WeightType w) {
        return new LoadOptions(tokenizer, w, layout);
    }

    /** The weight layout (see {@link Layout#weightPart()}). */
    public LoadOptions withLayout(Layout l) {
        return new LoadOptions(tokenizer, weights, l);
    }
}
