package dev.ffmllama.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.format.ModelFormatException;
import java.io.IOException;

/**
 * Fuzzes GGUF loading end to end: header, metadata (KV) section, tensor table, tensor extents, the
 * llama config, tensor views and the embedded vocabulary. The only acceptable failure is a
 * {@link ModelFormatException}; anything else (another exception, an OutOfMemoryError, a hang, a
 * crash) is a bug. Seeds: {@code GgufFuzzTestInputs/ggufModel/} (valid tiny models and near misses).
 */
class GgufFuzzTest {
    @FuzzTest
    @DictionaryEntries({"GGUF", "general.architecture", "general.alignment", "llama", "llama.embedding_length",
            "llama.feed_forward_length", "llama.block_count", "llama.attention.head_count",
            "llama.attention.head_count_kv", "llama.context_length", "llama.rope.dimension_count",
            "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "token_embd.weight", "output.weight",
            "blk.0.attn_q.weight", "<0x0A>", "\u2581"})
    void ggufModel(byte[] bytes) {
        try (ModelFile model = ModelFiles.open(FuzzInput.write(".gguf", bytes))) {
            ModelProbe.exercise(model);
        } catch (ModelFormatException | IOException expected) {
            // documented outcome for a bad file
        }
    }
}
