package dev.ffmllama.cli;

import dev.ffmllama.format.Llama2cTokenizerFile;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ffm-llama tokenize}: prints the token ids of a prompt, space-separated. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a prompt, space-separated (BOS first unless --no-bos).")
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH",
            description = "GGUF model whose embedded vocabulary is used (with --tokenizer: only checks the vocab size).")
    private Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "llama2.c tokenizer file (takes precedence over --model).")
    private Path tokenizerFile;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "Text to encode.")
    private String prompt;

    @Option(names = "--no-bos", description = "Do not start with the BOS token.")
    private boolean noBos;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = loadTokenizer();
        boolean bos = !noBos && tokenizer.vocabulary().addBos();
        int[] ids = tokenizer.encode(prompt, bos, false);
        spec.commandLine().getOut().println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        spec.commandLine().getOut().flush();
        return 0;
    }

    private Tokenizer loadTokenizer() throws IOException {
        if (tokenizerFile == null && model == null) {
            throw new UserException("give --model (a GGUF model) or --tokenizer (a llama2.c tokenizer file)");
        }
        if (tokenizerFile != null && model == null) {
            return Tokenizer.fromLlama2c(Llama2cTokenizerFile.read(tokenizerFile));
        }
        try (ModelFile m = ModelFiles.open(model)) {
            if (tokenizerFile == null && m.vocabulary().isEmpty()) {
                throw new UserException(model + " is a " + m.format()
                        + " checkpoint without a vocabulary: give its tokenizer with --tokenizer");
            }
            return Tokenizer.forModel(m, tokenizerFile);
        }
    }
}
