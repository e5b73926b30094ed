package dev.ffmllama.engine;

import java.lang.foreign.MemorySegment;

/**
 * One decoder block's weights: views into the mapped model file, row-major {@code [out, in]}.
 *
 * @param attnNorm  [dim]            RMSNorm weight before attention
 * @param wq        [dim, dim]
 * @param wk        [kvDim, dim]
 * @param wv        [kvDim, dim]
 * @param wo        [dim, dim]
 * @param ffnNorm   [dim]            RMSNorm weight before the feed-forward layer
 * @param ffnGate   [hidden, dim]    llama2.c w1
 * @param ffnDown   [dim, hidden]    llama2.c w2
 * @param ffnUp     [hidden, dim]    llama2.c w3
 */
record LayerWeights(MemorySegment attnNorm, MemorySegment wq, MemorySegment wk, MemorySegment wv, MemorySegment wo,
                    MemorySegment ffnNorm, MemorySegment ffnGate, MemorySegment ffnDown, MemorySegment ffnUp) {
}
