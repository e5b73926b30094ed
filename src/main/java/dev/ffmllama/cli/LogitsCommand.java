package dev.ffmllama.cli;

import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.format.Npy;
import dev.ffmllama.tensor.Tensor;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code logits}: the model's logits at every position of a token sequence, as a .npy file. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Write float32 logits [positions, vocab]: row p = logits after feeding token p at position p.")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--tokens", paramLabel = "IDS.npy", description = "token ids, int32 or int64 .npy")
        Path tokens;

        @Option(names = "--prompt", paramLabel = "TEXT", description = "text to encode (with BOS)")
        String prompt;
    }

    @Option(names = "--out", required = true, paramLabel = "LOGITS.npy", description = "output file")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (Model model = modelOptions.load()) {
            int[] ids;
            if (input.tokens != null) {
                ModelOptions.requireFile(input.tokens, "tokens");
                ids = Npy.readIds(input.tokens);
            } else {
                ids = model.tokenizer().encode(input.prompt, true, false);
            }
            if (ids.length == 0) throw new UserException("no tokens to evaluate");
            int vocab = model.config().vocabSize();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] < 0 || ids[i] >= vocab) {
                    throw new UserException("token id " + ids[i] + " at index " + i + " is out of range [0, " + vocab + ")");
                }
            }
            try (Session session = model.newSession(modelOptions.sessionOptions().greedy());
                 Tensor logits = session.logits(ids)) {
                Npy.write(out, logits);
            }
            System.err.println("wrote " + out + " [" + ids.length + ", " + vocab + "]");
        }
        return 0;
    }
}
