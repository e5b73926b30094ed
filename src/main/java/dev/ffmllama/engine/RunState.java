package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import java.lang.foreign.MemorySegment;

/**
 * Every activation buffer of the forward pass, allocated once per session for up to
 * {@code maxBatch} tokens at a time (a prefill chunk); decoding uses the first row only. The fused
 * layouts add the buffers their one matmul writes; q, k, v (gate, up) then are offsets in its rows.
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
    // fused layouts only (else null): the one matmul's output, and views of its first row (decode)
    final MemorySegment qkv;     // [maxBatch, dim + 2 kvDim]  q | k | v per row
    final MemorySegment qkvQ, qkvK, qkvV;
    final MemorySegment gateUp;  // [maxBatch, 2 hidden]       gate | up per row
    final MemorySegment gateUpGate, gateUpUp;

    RunState(OffHeapMemory memory, ModelConfig c, int maxBatch, int contextLength, boolean fusedQkv,
             boolean fusedFfn) {
        this.maxBatch = maxBatch;
        long dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim();
        x = floats(memory, maxBatch * dim);
        xb = floats(memory, maxBatch * dim);
        attnOut = floats(memory, maxBatch * dim);
        q = floats(memory, maxBatch * dim);
        k = floats(memory, maxBatch * kvDim);
        v = floats(memory, maxBatch * kvDim);
        hb = floats(memory, maxBatch * hidden);
        hb2 = floats(memory, maxBatch * hidden);
        scores = floats(memory, (long) c.nHeads() * contextLength);
        lastRow = floats(memory, dim);
        logits = floats(memory, (long) maxBatch * c.vocabSize());
        qkv = fusedQkv ? floats(memory, maxBatch * (dim + 2 * kvDim)) : null;
        qkvQ = fusedQkv ? qkv.asSlice(0, dim * Float.BYTES) : null;
        qkvK = fusedQkv ? qkv.asSlice(dim * Float.BYTES, kvDim * Float.BYTES) : null;
        qkvV = fusedQkv ? qkv.asSlice((dim + kvDim) * Float.BYTES, kvDim * Float.BYTES) : null;
        gateUp = fusedFfn ? floats(memory, maxBatch * 2 * hidden) : null;
        gateUpGate = fusedFfn ? gateUp.asSlice(0, hidden * Float.BYTES) : null;
        gateUpUp = fusedFfn ? gateUp.asSlice(hidden * Float.BYTES, hidden * Float.BYTES) : null;
    }

    /** Bytes the buffers above take, fused layouts' buffers aside (overflow-checked: {@link ArithmeticException} past 2^63). */
    static long bytes(ModelConfig c, int maxBatch, int contextLength) {
        long perRow = 4L * c.dim() + 2L * c.kvDim() + 2L * c.hiddenDim() + c.vocabSize();
        long floats = Math.addExact(Math.multiplyExact((long) maxBatch, perRow),
                Math.multiplyExact((long) c.nHeads(), (long) contextLength) + c.dim());
        return Math.multiplyExact(floats, (long) Float.BYTES);
    }

    private static MemorySegment floats(OffHeapMemory memory, long n) {
        return memory.allocate(n * Float.BYTES);
    }
}
