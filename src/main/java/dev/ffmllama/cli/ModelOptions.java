package dev.ffmllama.cli;

import dev.ffmllama.LoadOptions;
import dev.ffmllama.Model;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.WeightType;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model: which model, tokenizer, backend, threads, weights and layout. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "PATH",
            description = "GGUF or llama2.c .bin model (default: the bundled stories260K)")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "llama2.c tokenizer .bin (default: GGUF metadata, or tok<vocab>.bin/tokenizer.bin beside the model)")
    Path tokenizer;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "native",
            description = "native (C kernels + OpenBLAS), vector (Java Vector API) or java (scalar Java); default ${DEFAULT-VALUE}")
    String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "threads for the linear layers (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--weights", paramLabel = "TYPE",
            description = "convert the weights at load time to f32, f16, bf16, q8_0 or q4_0 (default: as stored)")
    String weights;

    @Option(names = "--layout", paramLabel = "KEY=VALUE,...",
            description = "memory layout: qkv=separate|fused, ffn=separate|fused, matrix=auto|rows|transposed, "
                    + "kv=token-major|head-major, kv-type=f32|f16, align=mapped|64, hugepages=off|on "
                    + "(default: the first of each; see docs/layouts.md)")
    String layout;

    /** The parsed --layout (defaults when absent). */
    Layout layout() {
        try {
            return Layout.parse(layout);
        } catch (IllegalArgumentException e) {
            throw new UserException("--layout: " + e.getMessage());
        }
    }

    Model load() {
        LoadOptions options = LoadOptions.defaults().withWeights(weights == null ? null : parseWeightType(weights))
                .withLayout(layout().weightPart());
        if (model == null) {
            if (tokenizer != null) throw new UserException("--tokenizer needs --model");
            return Model.loadBundled(options);
        }
        requireFile(model, "model");
        if (tokenizer != null) requireFile(tokenizer, "tokenizer");
        return Model.load(model, options.withTokenizer(tokenizer));
    }

    static WeightType parseWeightType(String name) {
        for (WeightType t : WeightType.values()) {
            if (t.name().equalsIgnoreCase(name.trim())) return t;
        }
        throw new UserException("unknown weight type '" + name + "' (expected f32, f16, bf16, q8_0 or q4_0)");
    }

    SessionOptions sessionOptions() {
        return SessionOptions.defaults().withBackend(Backend.parse(backend)).withThreads(threads)
                .withLayout(layout().cachePart());
    }

    static void requireFile(Path p, String what) {
        if (!Files.exists(p)) throw new UserException(what + " file " + p + " does not exist");
        if (!Files.isRegularFile(p)) throw new UserException(what + " path " + p + " is not a regular file");
        if (!Files.isReadable(p)) throw new UserException(what + " file " + p + " is not readable");
    }
}
