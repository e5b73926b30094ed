package dev.ffmllama;

import dev.ffmllama.engine.Weights;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.format.ModelFormatException;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.WeightType;
import dev.ffmllama.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A loaded model: mapped weights (used in place unless a conversion or a layout copies them) and its
 * tokenizer. Thread-safe and shareable: any number of {@link Session}s, in any threads, read the same weights.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("stories260K.gguf"));
 *      Session session = model.newSession(SessionOptions.defaults().greedy())) {
 *     session.generate("Once upon a time", GenerationLimits.of(100),
 *             (token, pos) -> { System.out.print(model.tokenizer().decode(token)); return true; });
 * }
 * }</pre>
 *
 * <p>{@link #close()} (from any thread, also from a {@link TokenListener}) waits for the forward
 * passes running on these weights to finish their current token, then unmaps the file; those
 * generations then fail with {@link IllegalStateException}, as does any later use.
 */
public final class Model implements AutoCloseable {
    private static final String BUNDLED_MODEL = "stories260K.bin";
    private static final String BUNDLED_TOKENIZER = "tok512.bin";

    private final ModelFile file;
    private final Weights weights; // owns the off-heap copies made for LoadOptions.weights / layout, if any
    private final Tokenizer tokenizer;
    /** Entered by every session step that reads the weights; close() waits for those steps. */
    private final UseGuard guard = new UseGuard();

    private Model(ModelFile file, Tokenizer tokenizer, WeightType convertTo, Layout layout) {
        this.file = file;
        this.tokenizer = tokenizer;
        if (tokenizer.size() != file.config().vocabSize()) {
            throw new ModelFormatException("tokenizer has " + tokenizer.size() + " tokens but the model "
                    + file.path().getFileName() + " has a vocabulary of " + file.config().vocabSize());
        }
        this.weights = new Weights(file, convertTo, layout);
    }

    /**
     * Loads a GGUF model (tokenizer from its metadata) or a llama2.c checkpoint (tokenizer from
     * {@code tokenizer.bin} or {@code tok<vocab>.bin} beside it).
     */
    public static Model load(Path modelPath) {
        return load(modelPath, LoadOptions.defaults());
    }

    /** Loads a model with an explicit llama2.c tokenizer file ({@code null}: as {@link #load(Path)}). */
    public static Model load(Path modelPath, Path tokenizerPath) {
        return load(modelPath, LoadOptions.defaults().withTokenizer(tokenizerPath));
    }

    /** Loads a model with the given options (tokenizer file, weight type conversion, weight layout). */
    public static Model load(Path modelPath, LoadOptions options) {
        Path tokenizerPath = options.tokenizer();
        ModelFile file;
        try {
            file = ModelFiles.open(modelPath);
        } catch (IOException e) {
            throw new UncheckedIOException(modelPath + ": " + e.getMessage(), e);
        }
        try {
            return new Model(file, openTokenizer(file, tokenizerPath), options.weights(), options.layout());
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The bundled stories260K model (MIT, karpathy/tinyllamas) with its 512-token tokenizer. */
    public static Model loadBundled() {
        return loadBundled(LoadOptions.defaults());
    }

    /** The bundled stories260K model with the given options (its tokenizer is always the bundled one). */
    public static Model loadBundled(LoadOptions options) {
        return load(extractResource(BUNDLED_MODEL), options.withTokenizer(extractResource(BUNDLED_TOKENIZER)));
    }

    /** The weight layout the model was loaded with ({@link LoadOptions#layout()}). */
    public Layout layout() {
        return weights.layout();
    }

    /** Bytes of the weights' file mapping advised for huge pages ({@code hugepages=on}, weights in place), else 0. */
    public long hugePageBytesAdvised() {
        return weights.hugePageBytesAdvised();
    }

    /** Bytes of weights one decoded token reads (every matrix once, one embedding row). */
    public long weightBytesPerToken() {
        return weights.bytesReadPerToken();
    }

    private static Tokenizer openTokenizer(ModelFile file, Path tokenizerPath) {
        int vocab = file.config().vocabSize();
        if (tokenizerPath != null) return loadLlama2cTokenizer(tokenizerPath, vocab);
        if (file.vocabulary().isPresent()) return Tokenizer.fromVocabulary(file.vocabulary().get());
        Path dir = file.path().toAbsolutePath().getParent();
        for (String name : new String[] {"tok" + vocab + ".bin", "tokenizer.bin"}) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) return loadLlama2cTokenizer(candidate, vocab);
        }
        throw new ModelFormatException(file.path().getFileName() + " is a llama2.c checkpoint with no tokenizer: pass one"
                + " (--tokenizer) or put tok" + vocab + ".bin or tokenizer.bin beside it");
    }

    private static Tokenizer loadLlama2cTokenizer(Path path, int vocab) {
        try {
            return Tokenizer.loadLlama2c(path, vocab);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    private static Path extractResource(String name) {
        try (InputStream in = Model.class.getResourceAsStream("/models/" + name)) {
            if (in == null) throw new IllegalStateException("bundled model file /models/" + name + " is not on the classpath");
            byte[] bytes = in.readAllBytes();
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "ffm-llama-" + System.getProperty("user.name", "user"),
                    "models", Integer.toHexString(java.util.Arrays.hashCode(bytes)));
            Files.createDirectories(dir);
            Path target = dir.resolve(name);
            if (!Files.isRegularFile(target) || Files.size(target) != bytes.length) {
                Path tmp = Files.createTempFile(dir, name, ".part");
                Files.write(tmp, bytes);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract bundled " + name + ": " + e.getMessage(), e);
        }
    }

    public ModelConfig config() {
        return file.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The file the weights are mapped from. */
    public Path path() {
        return file.path();
    }

    /** "gguf" or "llama2c". */
    public String format() {
        return file.format();
    }

    /** A new session with its own KV cache and buffers; close it when done. */
    public Session newSession(SessionOptions options) {
        ensureOpen();
        return new Session(this, weights.arrangedFor(options.backend()), options);
    }

    /** Marks the start of a step that reads the weights; returns false if the model is closed or closing. */
    boolean acquire() {
        return guard.enter();
    }

    /** Ends a step begun by a successful {@link #acquire()}. */
    void release() {
        guard.exit();
    }

    void ensureOpen() {
        if (guard.isClosed()) throw new IllegalStateException("model " + file.path().getFileName() + " is closed");
    }

    /**
     * Waits for sessions to finish the step they are computing, then unmaps the weights. Sessions
     * fail their next step with {@link IllegalStateException}. Idempotent; safe from any thread.
     */
    @Override
    public void close() {
        if (guard.closeAndAwait()) {
            weights.close();
            file.close();
        }
    }
}
