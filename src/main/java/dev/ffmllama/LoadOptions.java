package dev.ffmllama;

import dev.ffmllama.tensor.WeightType;
import java.nio.file.Path;

/**
 * How {@link Model#load(Path, LoadOptions)} reads a model.
 *
 * @param tokenizer a llama2.c tokenizer file, or null for the GGUF vocabulary / a tokenizer beside the model
 * @param weights   convert every matrix to this type at load time (an off-heap copy), or null to use the
 *                  file's tensors in place
 */
public record LoadOptions(Path tokenizer, WeightType weights) {
    public static LoadOptions defaults() {
        return new LoadOptions(null, null);
    }

    public LoadOptions withTokenizer(Path t) {
        return new LoadOptions(t, weights);
    }

    public LoadOptions withWeights(WeightType w) {
        return new LoadOptions(tokenizer, w);
    }
}
