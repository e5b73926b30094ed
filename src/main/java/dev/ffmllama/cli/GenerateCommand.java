package dev.ffmllama.cli;

import dev.ffmllama.GenerationLimits;
import dev.ffmllama.GenerationResult;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.tokenizer.Tokenizer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code generate}: streams text from a prompt, as llama2.c's {@code run} does. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt, streaming tokens as they are sampled.")
final class GenerateCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PROMPT", description = "the prompt (default: empty)")
    String prompt = "";

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "-n", paramLabel = "STEPS", defaultValue = "256",
            description = "positions to run, prompt included, as llama2.c's -n (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--temperature", defaultValue = "1.0", description = "0 = greedy (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens; 0 = off (default)")
    int topK;

    @Option(names = "--seed", description = "sampling seed (default: from the clock)")
    Long seed;

    @Option(names = "--ignore-eos", description = "keep generating when the model emits BOS/EOS")
    boolean ignoreEos;

    @Option(names = "--stats", description = "print prompt and generation speed and heap bytes per token to stderr")
    boolean stats;

    @Override
    public Integer call() {
        if (steps < 0) throw new UserException("-n must be >= 0, got " + steps);
        try (Model model = modelOptions.load()) {
            SessionOptions options = modelOptions.sessionOptions().withTemperature(temperature).withTopP(topP)
                    .withTopK(topK).withSeed(seed != null ? seed : System.nanoTime());
            Tokenizer tok = model.tokenizer();
            int[] ids = tok.encode(prompt, true, false);
            PrintStream err = System.err;
            try (Session session = model.newSession(options)) {
                if (ids.length > session.contextLength()) {
                    throw new UserException("the prompt has " + ids.length + " tokens but the context holds only "
                            + session.contextLength());
                }
                OutputStream out = new BufferedOutputStream(System.out, 1 << 12);
                for (int i = 1; i < ids.length; i++) write(tok, ids[i - 1], ids[i], out);
                flush(out);
                int maxNew = Math.min(GenerationLimits.ofSteps(steps, ids.length).maxNewTokens(),
                        session.contextLength() + 1 - ids.length);
                boolean wantedMore = GenerationLimits.ofSteps(steps, ids.length).maxNewTokens() > maxNew;
                GenerationResult result = session.generate(ids, new GenerationLimits(maxNew, !ignoreEos), (token, pos) -> {
                    write(tok, session.tokenAt(pos - 1), token, out);
                    flush(out);
                    return true;
                });
                write(out, '\n');
                flush(out);
                if (wantedMore && result.stopReason() != GenerationResult.StopReason.END_OF_SEQUENCE) {
                    err.println("[context full: stopped at " + session.contextLength() + " positions; -n " + steps
                            + " asked for more]");
                }
                if (stats) {
                    err.printf("prompt: %d tokens, %.1f tok/s%n", result.promptTokens(), result.promptTokensPerSecond());
                    err.printf("generation: %d tokens, %.1f tok/s%n", result.generatedTokens(),
                            result.generationTokensPerSecond());
                    err.printf("alloc_bytes_per_token: %d%n",
                            result.generatedTokens() == 0 ? 0 : result.allocatedBytes() / result.generatedTokens());
                    err.printf("backend: %s, threads: %d%n", options.backend().cliName(), options.threads());
                }
            }
        }
        return 0;
    }

    private static void write(Tokenizer tok, int prev, int token, OutputStream out) {
        try {
            tok.decode(prev, token, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(OutputStream out, int b) {
        try {
            out.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void flush(OutputStream out) {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
