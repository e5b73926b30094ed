package dev.ffmllama.fuzz;

import dev.ffmllama.engine.Weights;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFormatException;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tokenizer.Tokenizer;
import java.lang.foreign.ValueLayout;

/**
 * Uses an opened model file the way {@code Model.load} does (config, every tensor, the decoder's
 * weight views, the embedded vocabulary as a tokenizer) and reads the first and last byte of each
 * tensor view, so a view that reaches past the mapping would surface here rather than mid-inference.
 */
final class ModelProbe {
    private static final String TEXT = "Once upon a time, \u00e9\u4e16\ud83d\ude00 <0x0A>\n";

    private ModelProbe() {
    }

    static void exercise(ModelFile model) {
        ModelConfig config = model.config();
        if (config.kvDim() <= 0 || config.headSize() <= 0) throw new AssertionError("validated config " + config);
        for (String name : model.tensorNames()) {
            try {
                touch(model.tensor(name));
            } catch (ModelFormatException unsupportedType) {
                // a tensor of a type the runtime does not compute with: reported by name, fine
            }
        }
        new Weights(model);
        model.vocabulary().map(Tokenizer::fromVocabulary).ifPresent(ModelProbe::roundTrip);
    }

    /** Encodes and decodes text with every kind of piece (dummy prefix, multi-byte, byte fallback). */
    static void roundTrip(Tokenizer tokenizer) {
        int[] ids = tokenizer.encode(TEXT, true, true);
        for (int id : ids) {
            if (id < 0 || id >= tokenizer.size()) throw new AssertionError("encode gave id " + id);
        }
        tokenizer.decode(ids);
        for (int id = 0; id < tokenizer.size(); id++) tokenizer.tokenBytes(id);
    }

    private static void touch(Tensor t) {
        long bytes = t.segment().byteSize();
        if (bytes == 0) return;
        t.segment().get(ValueLayout.JAVA_BYTE, 0);
        t.segment().get(ValueLayout.JAVA_BYTE, bytes - 1);
    }
}
