package dev.ffmllama.engine;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.kernels.KvOrder;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * Keys and values of every position seen so far, per layer, in the session's layout: token-major as in
 * llama2.c ({@code [contextLength, kvDim]} per layer) or head-major ({@code [nKvHeads, contextLength, headSize]}),
 * with float32 or float16 elements (stored rounded to nearest even by {@link Float#floatToFloat16}). All
 * layers live in one block (so huge pages can back it).
 */
final class KvCache {
    final MemorySegment[] keys;
    final MemorySegment[] values;
    final int contextLength;
    final KvOrder order;
    final WeightType type;
    private final int kvDim;
    private final int nKvHeads;
    private final int headSize;

    KvCache(OffHeapMemory memory, ModelConfig c, int contextLength, KvOrder order, WeightType type) {
        this.contextLength = contextLength;
        this.order = order;
        this.type = type;
        this.kvDim = c.kvDim();
        this.nKvHeads = c.nKvHeads();
        this.headSize = c.headSize();
        long layerBytes = align64((long) contextLength * kvDim * elementBytes(type));
        MemorySegment block = memory.allocate(2 * c.nLayers() * layerBytes);
        keys = new MemorySegment[c.nLayers()];
        values = new MemorySegment[c.nLayers()];
        for (int l = 0; l < c.nLayers(); l++) {
            keys[l] = block.asSlice(2L * l * layerBytes, layerBytes);
            values[l] = block.asSlice((2L * l + 1) * layerBytes, layerBytes);
        }
    }

    /** Bytes the cache of a session takes (overflow-checked: {@link ArithmeticException} past 2^63). */
    static long bytes(ModelConfig c, int contextLength, WeightType type) {
        long elements = Math.multiplyExact(Math.multiplyExact(2L * c.nLayers(), (long) contextLength), (long) c.kvDim());
        return Math.multiplyExact(elements, (long) elementBytes(type));
    }

    private static int elementBytes(WeightType type) {
        return type == WeightType.F16 ? 2 : Float.BYTES;
    }

    private static long align64(long bytes) {
        return (bytes + 63) & -64L;
    }

    /** Copies {@code rows} key and value rows ({@code [rows, kvDim]} floats) into layer {@code l} at positions {@code pos0..}. */
    void store(int l, MemorySegment k, MemorySegment v, int pos0, int rows) {
        if (order == KvOrder.TOKEN_MAJOR && type == WeightType.F32) { // the cache rows are the input rows
            long off = (long) pos0 * kvDim * Float.BYTES;
            long bytes = (long) rows * kvDim * Float.BYTES;
            MemorySegment.copy(k, 0, keys[l], off, bytes);
            MemorySegment.copy(v, 0, values[l], off, bytes);
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < nKvHeads; h++) {
                long from = (long) r * kvDim + (long) h * headSize;
                long to = order.offset(pos0 + r, h, nKvHeads, headSize, contextLength);
                storeHead(k, from, keys[l], to);
                storeHead(v, from, values[l], to);
            }
        }
    }

    /** One head's {@code headSize} floats from element {@code from} of src to element {@code to} of the cache. */
    private void storeHead(MemorySegment src, long from, MemorySegment cache, long to) {
        if (type == WeightType.F32) {
            MemorySegment.copy(src, from * Float.BYTES, cache, to * Float.BYTES, (long) headSize * Float.BYTES);
            return;
        }
        for (long i = 0; i < headSize; i++) {
            cache.setAtIndex(JAVA_SHORT, to + i, Float.floatToFloat16(src.getAtIndex(JAVA_FLOAT, from + i)));
        }
    }
}
