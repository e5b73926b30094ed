package dev.ffmllama.cli;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.synth.SynthSpec;
import dev.ffmllama.synth.SyntheticModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code synth}: writes a random-weight GGUF model of any shape and normalization variant. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a random-weight llama GGUF of the given shape and normalization variant, with the"
                + " tokenizer copied from another model (see docs/normalization.md).",
                "Init: N(0, init-std^2) for the embedding and every matrix, norm weights 1 and biases 0;"
                        + " DeepNorm scales attn_v/attn_output/ffn_* by beta = (8 layers)^-1/4 (DeepNet)."})
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--dim", defaultValue = "64", description = "residual width (default ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--hidden", defaultValue = "172", description = "SwiGLU width (default ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--layers", defaultValue = "5", description = "decoder blocks (default ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--heads", defaultValue = "8", description = "query heads (default ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--kv-heads", description = "key/value heads (default: --heads)")
    Integer kvHeads;

    @Option(names = "--vocab", defaultValue = "0", description = "vocabulary size; must match the tokenizer (default: its size)")
    int vocab;

    @Option(names = "--context", defaultValue = "512", description = "context length (default ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--norm-type", defaultValue = "rmsnorm", description = "rmsnorm or layernorm (default ${DEFAULT-VALUE})")
    String normType;

    @Option(names = "--placement", defaultValue = "pre", description = "pre, post, sandwich or deepnorm (default ${DEFAULT-VALUE})")
    String placement;

    @Option(names = "--alpha", description = "DeepNorm residual scale (default (2 layers)^1/4)")
    Float alpha;

    @Option(names = "--seed", defaultValue = "1234", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--init-std", defaultValue = "0.02", description = "std of the normal weight init (default ${DEFAULT-VALUE})")
    double initStd;

    @Option(names = "--norm-jitter", defaultValue = "0", description = "std of noise added to norm weights (1) and biases (0); default 0")
    double normJitter;

    @Option(names = "--tokenizer-from", required = true, paramLabel = "PATH",
            description = "GGUF model or llama2.c tokenizer .bin whose tokenizer the new file gets")
    Path tokenizerFrom;

    @Option(names = "--out", required = true, paramLabel = "PATH", description = "the GGUF file to write")
    Path out;

    @Override
    public Integer call() throws IOException {
        ModelOptions.requireFile(tokenizerFrom, "tokenizer");
        NormSpec.Placement where = NormSpec.Placement.parse(placement);
        NormSpec.Type type = NormSpec.Type.parse(normType);
        if (alpha != null && where != NormSpec.Placement.DEEPNORM) {
            throw new UserException("--alpha applies to --placement deepnorm only");
        }
        if (layers <= 0) throw new UserException("--layers must be positive, got " + layers);
        NormSpec norm = alpha != null ? new NormSpec(type, where, alpha) : NormSpec.of(type, where, layers);
        SynthSpec spec = new SynthSpec(dim, hidden, layers, heads, kvHeads != null ? kvHeads : heads, vocab, context, norm,
                seed, initStd, normJitter);
        ModelConfig c = SyntheticModel.write(spec, tokenizerFrom, out);
        System.err.printf("wrote %s: %s, dim %d, hidden %d, %d layers, %d/%d heads, vocab %d, context %d%n", out,
                norm.describe(), c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.vocabSize(),
                c.contextLength());
        return 0;
    }
}
