package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Every activation buffer of the forward pass, allocated once per session for up to
 * {@code maxBatch} tokens at a time (a prefill chunk); decoding uses the first row only.
 */
final class RunState {
    final int maxBatch;
    final MemorySegment x;       // [maxBatch, dim]    residual stream
    final MemorySegment xb;      // [maxBatch, dim]    normalized input of a sublayer / its output
    final MemorySegment attnOut; // [maxBatch, dim]    attention output before Wo
    final MemorySegment q;       // [maxBatch, dim]
    final MemorySegment k;       // [maxBatch, kvDim]
    final MemorySegment v;       // [maxBatch, kvDim]
    final MemorySegment hb;      // [maxBatch, hidden] gate, then silu(gate) * up
    final MemorySegment hb2;     // [maxBatch, hidden] up
    final MemorySegment scores;  // [nHeads, contextLength] attention scores
    final MemorySegment lastRow; // [dim]              the row whose logits are wanted
    final MemorySegment logits;  // [maxBatch, vocab]

    RunState(Arena arena, ModelConfig c, int maxBatch, int contextLength) {
        this.maxBatch = maxBatch;
        x = floats(arena, (long) maxBatch * c.dim());
        xb = floats(arena, (long) maxBatch * c.dim());
        attnOut = floats(arena, (long) maxBatch * c.dim());
        q = floats(arena, (long) maxBatch * c.dim());
        k = floats(arena, (long) maxBatch * c.kvDim());
        v = floats(arena, (long) maxBatch * c.kvDim());
        hb = floats(arena, (long) maxBatch * c.hiddenDim());
        hb2 = floats(arena, (long) maxBatch * c.hiddenDim());
        scores = floats(arena, (long) c.nHeads() * contextLength);
        lastRow = floats(arena, c.dim());
        logits = floats(arena, (long) maxBatch * c.vocabSize());
    }

    /** Bytes the buffers above take (overflow-checked: {@link ArithmeticException} past 2^63). */
    static long bytes(ModelConfig c, int maxBatch, int contextLength) {
        long perRow = 4L * c.dim() + 2L * c.kvDim() + 2L * c.hiddenDim() + c.vocabSize();
        long floats = Math.addExact(Math.multiplyExact((long) maxBatch, perRow),
                Math.multiplyExact((long) c.nHeads(), (long) contextLength) + c.dim());
        return Math.multiplyExact(floats, (long) Float.BYTES);
    }

    private static MemorySegment floats(Arena arena, long n) {
        return arena.allocate(n * Float.BYTES, 64);
    }
}
