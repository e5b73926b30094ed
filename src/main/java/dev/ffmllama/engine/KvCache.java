package dev.ffmllama.engine;

import dev.ffmllama.format.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys and values of every position seen so far, per layer, token-major as in llama2.c:
 * layer l holds {@code [contextLength, kvDim]} floats for keys and the same for values.
 */
final class KvCache {
    final MemorySegment[] keys;
    final MemorySegment[] values;
    final int contextLength;
    final int kvDim;

    KvCache(Arena arena, ModelConfig c, int contextLength) {
        this.contextLength = contextLength;
        this.kvDim = c.kvDim();
        long layerBytes = (long) contextLength * kvDim * Float.BYTES;
        keys = new MemorySegment[c.nLayers()];
        values = new MemorySegment[c.nLayers()];
        for (int l = 0; l < c.nLayers(); l++) {
            keys[l] = arena.allocate(layerBytes, 64);
            values[l] = arena.allocate(layerBytes, 64);
        }
    }

    /** Bytes the cache of a session takes (overflow-checked: {@link ArithmeticException} past 2^63). */
    static long bytes(ModelConfig c, int contextLength) {
        long floats = Math.multiplyExact(Math.multiplyExact(2L * c.nLayers(), (long) contextLength), (long) c.kvDim());
        return Math.multiplyExact(floats, (long) Float.BYTES);
    }

    /** Copies {@code rows} key and value rows into layer {@code l} at positions {@code pos0..}. */
    void store(int l, MemorySegment k, MemorySegment v, int pos0, int rows) {
        long off = (long) pos0 * kvDim * Float.BYTES;
        long bytes = (long) rows * kvDim * Float.BYTES;
        MemorySegment.copy(k, 0, keys[l], off, bytes);
        MemorySegment.copy(v, 0, values[l], off, bytes);
    }
}
