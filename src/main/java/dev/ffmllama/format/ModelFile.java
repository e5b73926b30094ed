package dev.ffmllama.format;

import java.lang.foreign.MemorySegment;
import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tensor.WeightType;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * A model checkpoint mapped into memory. Tensors are views over the mapping (never copied) and are
 * named with GGUF's names whatever the file format:
 * {@code token_embd.weight [vocab, dim]}, {@code output_norm.weight [dim]}, {@code output.weight [vocab, dim]},
 * and per block N: {@code blk.N.attn_norm.weight [dim]}, {@code blk.N.attn_q.weight [dim, dim]},
 * {@code blk.N.attn_k.weight [kv_dim, dim]}, {@code blk.N.attn_v.weight [kv_dim, dim]},
 * {@code blk.N.attn_output.weight [dim, dim]}, {@code blk.N.ffn_norm.weight [dim]},
 * {@code blk.N.ffn_gate.weight [hidden, dim]} (llama2.c w1), {@code blk.N.ffn_down.weight [dim, hidden]} (w2),
 * {@code blk.N.ffn_up.weight [hidden, dim]} (w3).
 * Shapes are row-major {@code [rows, cols]} (GGUF's ne[1], ne[0]). A tied classifier is reported
 * as {@code output.weight} viewing the embedding.
 *
 * <p>Closing unmaps the file; tensors must not be used afterwards (their segments are closed).
 */
public interface ModelFile extends AutoCloseable {

    /** Where the model was read from. */
    Path path();

    /** "llama2c" or "gguf". */
    String format();

    ModelConfig config();

    /** Names of the tensors available through {@link #tensor(String)}. */
    Set<String> tensorNames();

    /** Whether the file has that tensor. */
    default boolean hasTensor(String name) {
        return tensorNames().contains(name);
    }

    /**
     * The tensor with that name, as stored (F32 for now). Throws {@link ModelFormatException} if it
     * is missing, has an unsupported type, or its shape is not the one {@code expectedShape} gives
     * (no shape check when {@code expectedShape} is empty). The tensor is a read-only view of the
     * mapping, valid until {@link #close()}.
     */
    Tensor tensor(String name, long... expectedShape);

    /**
     * The tensor with that name in its stored type (F32, F16, BF16, Q8_0 or Q4_0), for the linear layers
     * ({@code Kernels.matmul(WeightType, ...)}). Same checks as {@link #tensor}; an unsupported type names
     * itself and the supported ones. Formats that only store float32 (llama2.c) serve {@link #tensor}'s
     * F32 data.
     */
    default TypedTensor weight(String name, long... expectedShape) {
        Tensor t = tensor(name, expectedShape);
        return new TypedTensor(WeightType.F32, t.segment(), t.shape());
    }

    /** The whole file as mapped (read-only); every tensor is a view inside it. Valid until {@link #close()}. */
    MemorySegment mapping();

    /** The vocabulary embedded in the file (GGUF), or empty (llama2.c checkpoints). */
    Optional<Vocabulary> vocabulary();

    /** Unmaps the file. Idempotent. */
    @Override
    void close();
}
