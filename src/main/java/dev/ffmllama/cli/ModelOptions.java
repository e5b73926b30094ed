package dev.ffmllama.cli;

import dev.ffmllama.Model;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.kernels.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model: which model, tokenizer, backend and threads. */
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

    Model load() {
        if (model == null) {
            if (tokenizer != null) throw new UserException("--tokenizer needs --model");
            return Model.loadBundled();
        }
        requireFile(model, "model");
        if (tokenizer != null) requireFile(tokenizer, "tokenizer");
        return Model.load(model, tokenizer);
    }

    SessionOptions sessionOptions() {
        return SessionOptions.defaults().withBackend(Backend.parse(backend)).withThreads(threads);
    }

    static void requireFile(Path p, String what) {
        if (!Files.exists(p)) throw new UserException(what + " file " + p + " does not exist");
        if (!Files.isRegularFile(p)) throw new UserException(what + " path " + p + " is not a regular file");
        if (!Files.isReadable(p)) throw new UserException(what + " file " + p + " is not readable");
    }
}
