package dev.ffmllama.cli;

import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code perplexity}, as llama.cpp's: the text is tokenized once (with BOS) and cut into chunks of
 * {@code --context} tokens; each chunk starts with BOS and only the predictions for its second
 * half are scored, so every scored token sees at least half a context of history.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity of the model over a text file (llama.cpp method).")
final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--file", required = true, paramLabel = "TEXT", description = "UTF-8 text file")
    Path file;

    @Option(names = "--context", paramLabel = "N", description = "tokens per chunk (default: the model's context length)")
    Integer context;

    @Override
    public Integer call() throws Exception {
        ModelOptions.requireFile(file, "text");
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try (Model model = modelOptions.load()) {
            int ctx = context == null ? model.config().contextLength() : context;
            if (ctx < 2 || ctx > model.config().contextLength()) {
                throw new UserException("--context must be between 2 and the model's " + model.config().contextLength()
                        + ", got " + ctx);
            }
            int[] tokens = model.tokenizer().encode(text, true, false);
            int chunks = tokens.length / ctx;
            if (chunks == 0) {
                throw new UserException(file + " has " + tokens.length + " tokens; at least one chunk of " + ctx
                        + " is needed (use a smaller --context)");
            }
            int first = ctx / 2;
            int vocab = model.config().vocabSize();
            double nllSum = 0, nllSquares = 0;
            long count = 0;
            try (Session session = model.newSession(modelOptions.sessionOptions().greedy().withContextLength(ctx))) {
                int[] chunk = new int[ctx];
                for (int c = 0; c < chunks; c++) {
                    System.arraycopy(tokens, c * ctx, chunk, 0, ctx);
                    chunk[0] = model.tokenizer().bosId();
                    try (Tensor logits = session.logits(chunk)) {
                        for (int p = first; p < ctx - 1; p++) {
                            double nll = -logSoftmax(logits, p, vocab, tokens[c * ctx + p + 1]);
                            nllSum += nll;
                            nllSquares += nll * nll;
                            count++;
                        }
                    }
                    System.err.printf("[%d]%.4f%s", c + 1, Math.exp(nllSum / count), c + 1 < chunks ? "," : "\n");
                }
            }
            double mean = nllSum / count;
            double variance = Math.max(0, nllSquares / count - mean * mean);
            double ppl = Math.exp(mean);
            double err = count > 1 ? ppl * Math.sqrt(variance / (count - 1)) : 0;
            System.out.printf("Final estimate: PPL = %.4f +/- %.5f (%d chunks of %d tokens, %d scored)%n", ppl, err, chunks,
                    ctx, count);
        }
        return 0;
    }

    /** log softmax(logits[row])[target], in double. */
    static double logSoftmax(Tensor logits, int row, int vocab, int target) {
        long base = (long) row * vocab;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits.segment().getAtIndex(ValueLayout.JAVA_FLOAT, base + i));
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits.segment().getAtIndex(ValueLayout.JAVA_FLOAT, base + i) - max);
        return logits.segment().getAtIndex(ValueLayout.JAVA_FLOAT, base + target) - max - Math.log(sum);
    }
}
